// Who holds the VIP for a host that finds it by ARP (VS/DR's router): the host forgets its
// neighbour entry, asks again, and we read what it learnt, next to the MACs of every host on
// that segment. Also the ARP half of a real server's DR recipe, turned off or on. Any backend:
// only commands in the hosts (ip, sysctl, ping; arping from iputils-arping where present).
import type { LabBackend } from "./backend.ts";
import type { Topology } from "./topology.ts";
import { ARP_RECIPE, arpRecipeSysctls } from "./topologies/dr.ts";

/** What one relearning found. MACs are lower case. */
export interface VipNeighbour {
  /** The host that relearnt (the router) and its device towards the VIP. */
  host: string;
  device: string;
  vip: string;
  /** The MAC its neighbour entry holds afterwards; null when none was learnt. */
  mac: string | null;
  /** The entry's state, e.g. ["REACHABLE"]. */
  state: string[];
  /** MACs that answered an ARP request for the VIP (arping); null without arping. */
  answers: string[] | null;
  /** Each host on the device's segment → the MAC of its interface there. */
  macs: Record<string, string>;
}

/** The recipe's values, and what turning it off means: the kernel's defaults (0, 0). */
export const ARP_RECIPE_VALUES = {
  on: ARP_RECIPE,
  off: { arp_ignore: "0", arp_announce: "0" },
} as const;

async function run(backend: LabBackend, host: string, argv: string[]): Promise<string> {
  const r = await backend.exec(host, argv, { timeoutMs: 15_000 });
  if (r.code !== 0) {
    throw new Error(`'${argv.join(" ")}' failed on ${host}: ${(r.stderr || r.stdout).trim()}`);
  }
  return r.stdout;
}

/** Sets a host's arp_ignore/arp_announce on all and each of its interfaces (sysctl -w). */
export async function setArpRecipe(
  backend: LabBackend,
  topology: Topology,
  host: string,
  recipe: keyof typeof ARP_RECIPE_VALUES,
): Promise<string[]> {
  const devices = topology.hosts.find((h) => h.name === host)?.interfaces.map((i) => i.name);
  if (!devices) throw new Error(`no host '${host}' in the lab`);
  const settings = Object.entries(arpRecipeSysctls(ARP_RECIPE_VALUES[recipe], devices))
    .map(([k, v]) => `${k}=${v}`);
  try {
    await run(backend, host, ["sysctl", "-w", ...settings]);
  } catch (err) {
    throw new Error(
      `${(err as Error).message} (a container's /proc/sys is read-only: the ARP recipe ` +
        "can be changed at run time on the netns backend only)",
    );
  }
  return settings;
}

/** The MACs in arping's "Unicast reply from 203.0.113.5 [AA:BB:...]" lines, once each. */
export function parseArpingReplies(text: string): string[] {
  const macs = [...text.matchAll(/reply from [0-9.]+ \[([0-9A-Fa-f:]{17})\]/g)]
    .map((m) => m[1].toLowerCase());
  return [...new Set(macs)];
}

/** The device `host` reaches `vip` through (the kernel's route). */
async function deviceTowards(backend: LabBackend, host: string, vip: string): Promise<string> {
  const route = JSON.parse(await run(backend, host, ["ip", "-j", "route", "get", vip])) as {
    dev?: string;
  }[];
  if (!route[0]?.dev) throw new Error(`${host} has no route to ${vip}`);
  return route[0].dev;
}

/** MACs of every host's interface on the network `host`'s `device` sits on. */
async function segmentMacs(
  backend: LabBackend,
  topology: Topology,
  host: string,
  device: string,
): Promise<Record<string, string>> {
  const network = topology.hosts.find((h) => h.name === host)?.interfaces
    .find((i) => i.name === device)?.network;
  const macs: Record<string, string> = {};
  for (const h of topology.hosts) {
    const iface = h.interfaces.find((i) => i.network === network);
    if (!iface || h.name === host) continue;
    macs[h.name] = (await run(backend, h.name, ["cat", `/sys/class/net/${iface.name}/address`]))
      .trim().toLowerCase();
  }
  return macs;
}

/**
 * `host` forgets its neighbour entry for the VIP and learns it again (one ping makes the
 * kernel ask; the first answer wins). With arping present, every answer is counted first.
 */
export async function relearnVip(
  backend: LabBackend,
  topology: Topology,
  host: string,
): Promise<VipNeighbour> {
  const vip = topology.vip;
  const device = await deviceTowards(backend, host, vip);
  await run(backend, host, ["ip", "neigh", "flush", "to", vip, "dev", device]);
  let answers: string[] | null = null;
  const hasArping = await backend.exec(host, ["sh", "-c", "command -v arping"]);
  if (hasArping.code === 0) {
    // Exits 1 when nobody answers: the empty list says so.
    const r = await backend.exec(host, ["arping", "-c", "2", "-w", "3", "-I", device, vip], {
      timeoutMs: 10_000,
    });
    answers = parseArpingReplies(r.stdout);
  }
  // Its own answer may fail (no service answers pings); the ARP exchange is what counts.
  await backend.exec(host, ["ping", "-c", "1", "-W", "2", vip], { timeoutMs: 10_000 });
  const entries = JSON.parse(
    await run(backend, host, ["ip", "-j", "neigh", "show", "to", vip, "dev", device]),
  ) as { lladdr?: string; state?: string[] }[];
  return {
    host,
    device,
    vip,
    mac: entries[0]?.lladdr?.toLowerCase() ?? null,
    state: entries[0]?.state ?? [],
    answers,
    macs: await segmentMacs(backend, topology, host, device),
  };
}

/** The host whose MAC it is ("director"), or the MAC itself when no lab host has it. */
export function macOwner(found: VipNeighbour, mac: string): string {
  return Object.entries(found.macs).find(([, m]) => m === mac)?.[0] ?? mac;
}
