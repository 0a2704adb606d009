// The path of a client's packet through a VS/TUN director, from the captures: on the client
// network (the router's side), on the director's own network as the router hands it over
// (destination the VIP) and as the director sends it on inside a tunnel packet (source the
// director), and on the real server's own port as that tunnel packet arrives. The inner
// packet keeps the client's addresses, ports and TCP sequence numbers, so the copies are
// found by those; where the director cut a super-packet into segments, one client packet
// has several tunnel packets, found by the TCP sequence ranges they cover.
import { byTime, follow, pathKey, SLACK_S } from "./dr-path.ts";
import type { Packet } from "./packet.ts";
import { decodeTunnel, type TunnelPacket } from "./tunnel-decode.ts";

/** Who is who, by address (the outer headers carry them). */
export interface TunRoles {
  /** The director's address on its network (the outer source). */
  director: string;
  /** Real servers' addresses → host name. */
  servers: ReadonlyMap<string, string>;
}

export interface TunHop {
  /** The client's packet on the client network (the router's side). */
  public: Packet;
  /** Its copy as the router handed it to the director. */
  arrived: Packet | null;
  /** The tunnel packet(s) the director sent with it inside (several: its segments). */
  left: TunnelPacket[];
  /** Each of `left` as a real server's own port got it (null: not seen there). */
  delivered: (TunnelPacket | null)[];
  /** The director's ICMP fragmentation needed for it (too big for the tunnel), or null. */
  tooBig: Packet | null;
}

export interface TunPath {
  hops: TunHop[];
  /** Tunnel packets the director sent whose inner packet is no captured client packet. */
  strayLeft: TunnelPacket[];
  /** Every tunnel packet leaving the director, in time order. */
  tunnels: TunnelPacket[];
}

export interface TunPathOptions {
  vips: ReadonlySet<string>;
  /** Longest time between a packet and its copy (default 1000 ms). */
  windowMs?: number;
}

/** The tunnel packets of a capture sent by `from`, with an inner packet, in time order. */
export function tunnelPackets(packets: readonly Packet[], from: string): TunnelPacket[] {
  const out: TunnelPacket[] = [];
  for (const p of [...packets].sort(byTime)) {
    if (p.src !== from) continue;
    const t = decodeTunnel(p, from);
    if (t?.inner) out.push(t);
  }
  return out;
}

const flowOf = (p: Packet) =>
  `${p.protocolNumber} ${p.src}:${p.srcPort} ${p.dst}:${p.dstPort} ack ${p.tcp?.ack}`;

/**
 * The unused tunnel packets whose inner TCP segments, in sequence order, cover exactly the
 * arrived packet's bytes (the director cut it into segments), or null.
 */
function segmentsOf(
  arrived: Packet,
  byFlow: ReadonlyMap<string, TunnelPacket[]>,
  used: ReadonlySet<TunnelPacket>,
  windowS: number,
): TunnelPacket[] | null {
  if (!arrived.tcp || arrived.payloadLength === 0) return null;
  const start = arrived.tcp.seq;
  const end = (start + arrived.payloadLength) >>> 0;
  const near = (byFlow.get(flowOf(arrived)) ?? []).filter((t) =>
    !used.has(t) && t.outer.time >= arrived.time - SLACK_S &&
    t.outer.time <= arrived.time + windowS
  );
  const parts: TunnelPacket[] = [];
  let at = start;
  while (at !== end) {
    const next = near.find((t) => t.inner!.tcp!.seq === at && t.inner!.payloadLength > 0);
    if (!next || parts.includes(next)) return null;
    parts.push(next);
    at = (at + next.inner!.payloadLength) >>> 0;
    if (parts.length > 64) return null;
  }
  return parts.length > 1 ? parts : null;
}

/** Each tunnel packet as a real server's port got it, by outer addresses and inner keys. */
function deliveries(
  left: readonly TunnelPacket[],
  serverPackets: ReadonlyMap<string, readonly Packet[]>,
  roles: TunRoles,
  windowS: number,
): Map<TunnelPacket, TunnelPacket> {
  const got: TunnelPacket[] = [];
  for (const packets of serverPackets.values()) got.push(...tunnelPackets(packets, roles.director));
  got.sort((a, b) => byTime(a.outer, b.outer));
  const key = (t: TunnelPacket) => `${t.outer.dst} ${pathKey(t.inner!)}`;
  const byKey = new Map<string, TunnelPacket[]>();
  for (const t of got) byKey.set(key(t), [...(byKey.get(key(t)) ?? []), t]);
  const used = new Set<TunnelPacket>();
  const found = new Map<TunnelPacket, TunnelPacket>();
  for (const t of left) {
    const at = (byKey.get(key(t)) ?? []).find((d) =>
      !used.has(d) && d.outer.time >= t.outer.time - SLACK_S &&
      d.outer.time <= t.outer.time + windowS
    );
    if (!at) continue;
    used.add(at);
    found.set(t, at);
  }
  return found;
}

/** The director's ICMP errors from a VIP, by the quoted packet's addresses, ports and IP id. */
function icmpAnswers(directorPackets: readonly Packet[], vips: ReadonlySet<string>) {
  const byQuote = new Map<string, Packet>();
  for (const p of directorPackets) {
    const q = p.icmp?.quoted;
    if (!q || !vips.has(p.src) || p.icmp!.type !== 3 || p.icmp!.code !== 4) continue;
    byQuote.set(`${q.src}:${q.srcPort} ${q.dst}:${q.dstPort} ${q.ipId}`, p);
  }
  return (a: Packet) =>
    byQuote.get(`${a.src}:${a.srcPort} ${a.dst}:${a.dstPort} ${a.ipId}`) ?? null;
}

/** Pairs every client → VIP packet with its copy at the director and its tunnel packets. */
export function traceTunnel(
  publicPackets: readonly Packet[],
  directorPackets: readonly Packet[],
  serverPackets: ReadonlyMap<string, readonly Packet[]>,
  roles: TunRoles,
  options: TunPathOptions,
): TunPath {
  const windowS = (options.windowMs ?? 1000) / 1000;
  const toVip = (p: Packet) => options.vips.has(p.dst);
  const clientSent = publicPackets.filter(toVip).sort(byTime);
  const arrived = directorPackets.filter((p) => toVip(p) && p.src !== roles.director)
    .sort(byTime);
  const tunnels = tunnelPackets(directorPackets, roles.director);
  const tunnelOf = new Map(tunnels.map((t) => [t.inner!, t]));
  const inbound = follow(clientSent, arrived, windowS);
  const arrivedList = clientSent.flatMap((p) => inbound.has(p) ? [inbound.get(p)!] : []);
  // Whole packets keep the client's IP id: with it, a retransmission is not taken for
  // the copy the director dropped (too big) or never got.
  const outbound = follow(
    arrivedList,
    tunnels.map((t) => t.inner!),
    windowS,
    (p) => `${pathKey(p)} id ${p.ipId}`,
  );
  const answered = icmpAnswers(directorPackets, options.vips);
  const used = new Set<TunnelPacket>([...outbound.values()].map((p) => tunnelOf.get(p)!));
  const byFlow = new Map<string, TunnelPacket[]>();
  for (const t of tunnels) {
    if (!t.inner!.tcp || used.has(t)) continue;
    byFlow.set(flowOf(t.inner!), [...(byFlow.get(flowOf(t.inner!)) ?? []), t]);
  }
  const leftOf = new Map<Packet, TunnelPacket[]>();
  for (const a of arrivedList) {
    const one = outbound.get(a);
    const parts = one ? [tunnelOf.get(one)!] : segmentsOf(a, byFlow, used, windowS) ?? [];
    for (const t of parts) used.add(t);
    leftOf.set(a, parts);
  }
  const delivered = deliveries(tunnels, serverPackets, roles, windowS);
  return {
    hops: clientSent.map((p) => {
      const a = inbound.get(p) ?? null;
      const left = a ? leftOf.get(a) ?? [] : [];
      return {
        public: p,
        arrived: a,
        left,
        delivered: left.map((t) => delivered.get(t) ?? null),
        tooBig: a && left.length === 0 ? answered(a) : null,
      };
    }),
    strayLeft: tunnels.filter((t) => !used.has(t)),
    tunnels,
  };
}
