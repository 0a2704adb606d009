// How a VS/TUN real server of the lab decapsulates (its Host.tunnel): with the kernel's own
// tunnel device where the kernel has the modules (the LVS-TUN recipe: tunl0 up; for GUE also
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

/** The decapsulation a tunnel end gets on a kernel with the modules `has` says. */
export function chooseDecapsulation(
  tunnel: TunnelEndpoint,
  has: (module: string) => boolean = kernelHasModule,
): Decapsulation {
  const missing = KERNEL_TUNNEL_MODULES[tunnel.type].filter((m) => !has(m));
  const port = tunnel.type === "gue" ? ` port ${tunnel.guePort}` : "";
  if (missing.length === 0) {
    const fou = tunnel.type === "gue" ? `fou${port} gue, ` : "";
    return { mode: "kernel", summary: `kernel (${fou}${KERNEL_DEVICE[tunnel.type]} up)` };
  }
  return {
    mode: "userspace",
    summary: `userspace (lvslab-decap ${tunnel.type}${port}), kernel has no ${missing.join(", ")}`,
  };
}

/** lvslab-decap's options for a tunnel end (without the program itself). */
export function decapArgs(tunnel: TunnelEndpoint, statsFile?: string): string[] {
  return [
    ...tunnel.directors.flatMap((d) => ["--director", d]),
    "--type",
    tunnel.type,
    ...(tunnel.guePort !== undefined ? ["--gue-port", String(tunnel.guePort)] : []),
    ...tunnel.vips.flatMap((v) => ["--vip", v]),
    ...(statsFile ? ["--stats-file", statsFile] : []),
  ];
}

/** The kernel recipe's script (both backends): sets the device up, prints the ready line. */
export const KERNEL_DECAP_SCRIPT = "realservers/kernel-tunnel.sh";

/** The script's arguments: the type and, for GUE, the port. */
export function kernelDecapArgs(tunnel: TunnelEndpoint): string[] {
  return [tunnel.type, ...(tunnel.guePort !== undefined ? [String(tunnel.guePort)] : [])];
}
