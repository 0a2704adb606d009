// Changes to the path between hosts of a running lab, for the VS/TUN path-MTU and
// unreachable checks (the path scenario step): a host's MTU on one of its networks, a reject
// route (unreachable or prohibit) and its removal, and what a host's kernel has learnt about
// the route to an address (`ip route get`: a path MTU from ICMP shows as "cache ... mtu N").
// Any backend: only `ip` in the hosts, through the backend's exec.
import type { LabBackend } from "./backend.ts";
import type { Topology } from "./topology.ts";

/** The route types `ip route` rejects a prefix with (ICMP host unreachable, admin prohibited). */
export const REJECT_ROUTES = ["unreachable", "prohibit"] as const;
export type RejectRoute = (typeof REJECT_ROUTES)[number];

async function run(backend: LabBackend, host: string, argv: string[]): Promise<string> {
  const r = await backend.exec(host, argv, { timeoutMs: 15_000 });
  if (r.code !== 0) {
    throw new Error(`'${argv.join(" ")}' failed on ${host}: ${(r.stderr || r.stdout).trim()}`);
  }
  return r.stdout;
}

/** The host's address on `network` (from the topology), or a sentence why there is none. */
export function addressOn(topology: Topology, host: string, network: string): string {
  const h = topology.hosts.find((x) => x.name === host);
  if (!h) throw new Error(`no host '${host}' in the ${topology.name} lab`);
  const i = h.interfaces.find((x) => x.network === network);
  if (!i) {
    throw new Error(
      `${host} has no interface on '${network}' (it is on ${
        h.interfaces.map((x) => x.network).join(", ")
      })`,
    );
  }
  return i.address.split("/")[0];
}

/** The device holding `address` in the host (found by address: backends name devices alike). */
async function deviceWith(backend: LabBackend, host: string, address: string): Promise<string> {
  const links = JSON.parse(await run(backend, host, ["ip", "-j", "-4", "addr", "show"])) as {
    ifname: string;
    addr_info?: { local?: string }[];
  }[];
  const link = links.find((l) => l.addr_info?.some((a) => a.local === address));
  if (!link) throw new Error(`${host} holds no interface with ${address}`);
  return link.ifname;
}

/** Sets the MTU of the host's interface on `network`; returns the device's name. */
export async function setLinkMtu(
  backend: LabBackend,
  topology: Topology,
  host: string,
  network: string,
  mtu: number,
): Promise<string> {
  const device = await deviceWith(backend, host, addressOn(topology, host, network));
  await run(backend, host, ["ip", "link", "set", "dev", device, "mtu", String(mtu)]);
  return device;
}

/** Adds (replaces) a reject route for `prefix` in the host, or with null removes it. */
export async function setRejectRoute(
  backend: LabBackend,
  host: string,
  prefix: string,
  type: RejectRoute | null,
): Promise<void> {
  if (type === null) await run(backend, host, ["ip", "-4", "route", "del", prefix]);
  else await run(backend, host, ["ip", "-4", "route", "replace", type, prefix]);
}

/** What `ip route get` says about the host's route to addr, and the MTU it caches (or null). */
export async function routeTowards(
  backend: LabBackend,
  host: string,
  addr: string,
): Promise<{ text: string; mtu: number | null }> {
  const text = (await run(backend, host, ["ip", "-4", "route", "get", addr])).trim();
  return { text, mtu: parseRouteMtu(text) };
}

/** The "mtu N" of `ip route get`'s output (a learnt path MTU shows as "cache ... mtu N"). */
export function parseRouteMtu(text: string): number | null {
  const m = /\bmtu (\d+)/.exec(text);
  return m ? Number(m[1]) : null;
}
