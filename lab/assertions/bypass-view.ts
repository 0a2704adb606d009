// What the VS/DR and VS/TUN checks (./direct-routing.ts, ./tunnel.ts) share of their views of
// the captures: the connections on the client network and the real servers' own ports,
// where the replies show, since they bypass the director in both.
import { type Connection, groupConnections } from "../analysis/connections.ts";
import { answeringServers, flowKey } from "../analysis/dr-path.ts";
import type { Packet } from "../analysis/packet.ts";
import type { ServiceSpec } from "./service.ts";

/** The part of a DR or TUN view that does not depend on the method. */
export interface BypassView {
  vips: ReadonlySet<string>;
  /** Each real server's own port, every packet, by host. */
  serverPackets: ReadonlyMap<string, readonly Packet[]>;
  /** Each hop's connection on the client network. */
  connectionOf: ReadonlyMap<Packet, Connection>;
  /** flowKey → the real servers whose own port shows the connection's VIP side sending. */
  holders: ReadonlyMap<string, string[]>;
  /** "tcp 203.0.113.5:80": the services of the table. */
  servicePorts: ReadonlySet<string>;
  /**
   * What the director host's kernel handed lvslab's TUN device (its capture), when there is
   * one: a client packet that reached the director but is not here was dropped by that kernel
   * before lvslab could read it (./kernel-drops.ts).
   */
  tunPackets: readonly Packet[] | null;
}

/**
 * The method-independent part of a view: the client network's connections, the VIPs and
 * service ports of the table, and which real servers answered each flow (from `replies`:
 * the servers' packets as their own stacks sent them).
 */
export function bypassView(
  publicPackets: readonly Packet[],
  serverPackets: ReadonlyMap<string, readonly Packet[]>,
  replies: ReadonlyMap<string, readonly Packet[]>,
  services: readonly ServiceSpec[],
  tunPackets: readonly Packet[] | null,
): BypassView {
  const vips = new Set(services.map((s) => s.vip));
  const connectionOf = new Map<Packet, Connection>();
  for (const c of groupConnections(publicPackets)) {
    for (const p of c.packets) connectionOf.set(p, c);
  }
  return {
    vips,
    serverPackets,
    connectionOf,
    holders: answeringServers(replies, vips),
    servicePorts: new Set(services.map((s) => `${s.protocol} ${s.vip}:${s.port}`)),
    tunPackets,
  };
}

/** The real servers whose own port shows the connection answering (more than one: a fault). */
export function holdersOf(view: Pick<BypassView, "vips" | "holders">, c: Connection): string[] {
  const key = flowKey(c, view.vips);
  return (key && view.holders.get(key)) || [];
}

/** The one real server holding the connection, or null (none, or several). */
export function holderOf(
  view: Pick<BypassView, "vips" | "holders">,
  c: Connection | undefined,
): string | null {
  if (!c) return null;
  const holders = holdersOf(view, c);
  return holders.length === 1 ? holders[0] : null;
}
