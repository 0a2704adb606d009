// How a VS/TUN real server of the lab decapsulates (its Host.tunnel, one or several types):
// with the kernel's own tunnel devices where the kernel has the modules (the LVS-TUN recipe: tunl0 up; for GUE also
// `ip fou add port N gue`; gre0 for GRE), else with lvslab-decap (realservers/tunnel-decap.ts),
// a userspace decapsulator. The lab picks by itself, per server, and says which in
// `lvslab status`. Both backends follow this: lab/netns/lab.ts at `up`, and the Compose real
// server's entry script (docker/entrypoints/realserver.sh) from the same /sys/module test.
import fs from "node:fs";
import type { TunnelType } from "../director/service/tunnel-options.ts";
import type { TunnelEndpoint } from "./topology.ts";

/** The modules the kernel recipe needs per tunnel type (GUE ends in ipip's tunl0 too). */
export const KERNEL_TUNNEL_MODULES: Record<TunnelType, string[]> = {
  ipip: ["ipip"],
  gue: ["fou", "ipip"],
  gre: ["ip_gre"],
};

/** The device the kernel recipe brings up. */
const KERNEL_DEVICE: Record<TunnelType, string> = { ipip: "tunl0", gue: "tunl0", gre: "gre0" };

export interface Decapsulation {
  mode: "kernel" | "userspace";
  /** What `lvslab status` prints after "decapsulation: ". */
  summary: string;
}

/** True when the running kernel has `module` (loaded, or built in with parameters). */
export function kernelHasModule(module: string, sysModule = "/sys/module"): boolean {
  return fs.existsSync(`${sysModule}/${module}`);
}

/** Every module the kernel recipe needs for all of the end's types, each once. */
export function kernelModules(tunnel: TunnelEndpoint): string[] {
  return [...new Set(tunnel.types.flatMap((t) => KERNEL_TUNNEL_MODULES[t]))];
}

/** "ipip, gue port 6080, gre": the end's types as the summaries and ready lines say them. */
function typesText(tunnel: TunnelEndpoint): string {
  return tunnel.types.map((t) => (t === "gue" ? `gue port ${tunnel.guePort}` : t)).join(", ");
}

/**
 * The summaries of both ways, for the Compose real server's entry script, which tests the
 * modules itself (the userspace one then gets ", kernel has no <missing>").
 */
export function decapSummaries(tunnel: TunnelEndpoint): { kernel: string; userspace: string } {
  const fou = tunnel.types.includes("gue") ? `fou port ${tunnel.guePort} gue, ` : "";
  const devices = [...new Set(tunnel.types.map((t) => KERNEL_DEVICE[t]))].join(", ");
  return {
    kernel: `kernel (${fou}${devices} up)`,
    userspace: `userspace (lvslab-decap ${typesText(tunnel)})`,
  };
}

/**
 * The decapsulation a tunnel end gets on a kernel with the modules `has` says: the kernel's
 * devices when it has every module all the end's types need, else lvslab-decap for all of
 * them (one program receives them all; half and half would gain nothing).
 */
export function chooseDecapsulation(
  tunnel: TunnelEndpoint,
  has: (module: string) => boolean = kernelHasModule,
): Decapsulation {
  const missing = kernelModules(tunnel).filter((m) => !has(m));
  const summaries = decapSummaries(tunnel);
  if (missing.length === 0) return { mode: "kernel", summary: summaries.kernel };
  return {
    mode: "userspace",
    summary: `${summaries.userspace}, kernel has no ${missing.join(", ")}`,
  };
}

/** lvslab-decap's options for a tunnel end (without the program itself). */
export function decapArgs(tunnel: TunnelEndpoint, statsFile?: string): string[] {
  return [
    ...tunnel.directors.flatMap((d) => ["--director", d]),
    "--type",
    tunnel.types.join(","),
    ...(tunnel.guePort !== undefined ? ["--gue-port", String(tunnel.guePort)] : []),
    ...tunnel.vips.flatMap((v) => ["--vip", v]),
    ...(statsFile ? ["--stats-file", statsFile] : []),
  ];
}

/** The kernel recipe's script (both backends): sets the devices up, prints the ready line. */
export const KERNEL_DECAP_SCRIPT = "realservers/kernel-tunnel.sh";

/** The script's arguments: each type and, after GUE, its port ("ipip gre", "gue 6080 gre"). */
export function kernelDecapArgs(tunnel: TunnelEndpoint): string[] {
  return tunnel.types.flatMap((t) => (t === "gue" ? [t, String(tunnel.guePort)] : [t]));
}
