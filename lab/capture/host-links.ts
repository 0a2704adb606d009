// The MAC address of every host interface, read from the lab (`ip -j link show` in each host)
// when captures start and saved beside the pcaps as host-links.json: a VS/DR check names a
// frame's sender and receiver by MAC (the director changes no address, only the frame's
// destination MAC), and pcaps alone do not say whose MAC is whose.
import fs from "node:fs";
import path from "node:path";
import type { LabBackend } from "../backend.ts";
import type { HostRole, Topology } from "../topology.ts";

/** One interface of one host: where it is plugged and its MAC. */
export interface HostLink {
  host: string;
  role: HostRole;
  device: string;
  network: string;
  /** Its address on that network, without prefix length. */
  address: string;
  /** Lower-case, colon-separated, as ip link prints it. */
  mac: string;
}

/** File name beside the pcaps. */
export const HOST_LINKS_FILE = "host-links.json";

const MAC_PATTERN = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Device name → MAC from `ip -j link show` output; throws a sentence when it is not JSON. */
export function parseIpLinkJson(stdout: string): Map<string, string> {
  let list: unknown;
  try {
    list = JSON.parse(stdout);
  } catch {
    throw new Error(`'ip -j link show' did not print JSON: ${stdout.trim().slice(0, 80)}`);
  }
  const macs = new Map<string, string>();
  if (!Array.isArray(list)) return macs;
  for (const l of list as { ifname?: unknown; address?: unknown }[]) {
    if (typeof l.ifname !== "string" || typeof l.address !== "string") continue;
    const mac = l.address.toLowerCase();
    if (MAC_PATTERN.test(mac)) macs.set(l.ifname, mac);
  }
  return macs;
}

/** Every interface of every host of the topology with its MAC, as the lab reports them. */
export async function collectHostLinks(
  backend: LabBackend,
  topology: Topology,
  options: { timeoutMs?: number } = {},
): Promise<HostLink[]> {
  const perHost = await Promise.all(topology.hosts.map(async (h) => {
    const r = await backend.exec(h.name, ["ip", "-j", "link", "show"], {
      timeoutMs: options.timeoutMs ?? 10_000,
    });
    if (r.code !== 0) {
      throw new Error(
        `'ip -j link show' failed in host '${h.name}': ${(r.stderr || r.stdout).trim()}`,
      );
    }
    const macs = parseIpLinkJson(r.stdout);
    return h.interfaces.map((i): HostLink => {
      const mac = macs.get(i.name);
      if (!mac) throw new Error(`host '${h.name}' has no device ${i.name} with a MAC address`);
      return {
        host: h.name,
        role: h.role,
        device: i.name,
        network: i.network,
        address: i.address.split("/")[0],
        mac,
      };
    });
  }));
  return perHost.flat();
}

export function writeHostLinks(dir: string, links: readonly HostLink[]): string {
  const file = path.join(dir, HOST_LINKS_FILE);
  fs.writeFileSync(file, JSON.stringify(links, null, 2) + "\n");
  return file;
}

/** The links saved in `dir`, or null when there are none (an older run, no capture). */
export function readHostLinks(dir: string): HostLink[] | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, HOST_LINKS_FILE), "utf8")) as HostLink[];
  } catch {
    return null;
  }
}
