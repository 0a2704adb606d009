// The path of a client's packet through a VS/DR director, from the captures: seen on the
// client network (the router's side), then twice on the director's LAN port, as the router
// hands it to the director (destination MAC = the director's) and as the director sends it
// on (source MAC = the director's, destination MAC = a real server's). The director changes
// no address and no port, only TTL (one less) and the header checksum, so the copies are
// found by their addresses, ports and TCP sequence numbers, and then compared byte by byte.
import { type Connection, groupConnections } from "./connections.ts";
import type { Packet } from "./packet.ts";

/** Who is who on the LAN, by MAC (lab/capture/host-links.ts gives them). */
export interface DrRoles {
  /** The director's MAC on the LAN. */
  director: string;
  /** The router's MACs on the LAN. */
  routers: ReadonlySet<string>;
  /** Real servers' MACs on the LAN → host name. */
  servers: ReadonlyMap<string, string>;
}

export interface DrHop {
  /** The client's packet on the client network (the router's side). */
  public: Packet;
  /** Its copy as the router handed it to the director (destination MAC the director's). */
  arrived: Packet | null;
  /** Its copy as the director sent it on (source MAC the director's). */
  left: Packet | null;
}

export interface DrPath {
  /** Every client → VIP packet on the client network, in time order, with its copies. */
  hops: DrHop[];
  /** Frames the director sent towards the VIP that are no captured client packet's copy. */
  strayLeft: Packet[];
}

export interface DrPathOptions {
  vips: ReadonlySet<string>;
  /** Longest time between a packet and its copy (default 1000 ms). */
  windowMs?: number;
}

// Clocks of captures in one kernel agree; allow a little disorder between the files.
export const SLACK_S = 0.01;

/**
 * What stays equal along the path: addresses, ports, TCP seq/ack/flags, payload length,
 * fragment offset; the IP id too for what has no sequence numbers. Not the TTL, nor any
 * byte a faulty director might change (those are compared afterwards, compareDrCopy).
 */
export function pathKey(p: Packet): string {
  const base =
    `${p.protocolNumber} ${p.src}:${p.srcPort} ${p.dst}:${p.dstPort} frag ${p.fragmentOffset}`;
  return p.tcp
    ? `${base} seq ${p.tcp.seq} ack ${p.tcp.ack} flags ${p.tcp.flags} len ${p.payloadLength}`
    : `${base} id ${p.ipId} len ${p.payloadLength}`;
}

/** For each packet of `from`, the earliest unused packet of `to` with its key in the window. */
export function follow(
  from: readonly Packet[],
  to: readonly Packet[],
  windowS: number,
  key: (p: Packet) => string = pathKey,
): Map<Packet, Packet> {
  const byKey = new Map<string, Packet[]>();
  for (const p of to) {
    const k = key(p);
    const list = byKey.get(k);
    if (list) list.push(p);
    else byKey.set(k, [p]);
  }
  const used = new Set<Packet>();
  const found = new Map<Packet, Packet>();
  for (const p of from) {
    const next = (byKey.get(key(p)) ?? []).find((c) =>
      !used.has(c) && c.time >= p.time - SLACK_S && c.time <= p.time + windowS
    );
    if (!next) continue;
    used.add(next);
    found.set(p, next);
  }
  return found;
}

export const byTime = (a: Packet, b: Packet) => a.time - b.time || a.index - b.index;

/** Pairs every client → VIP packet on the client network with its two copies on the LAN. */
export function traceDirectRouting(
  publicPackets: readonly Packet[],
  lanPackets: readonly Packet[],
  roles: DrRoles,
  options: DrPathOptions,
): DrPath {
  const windowS = (options.windowMs ?? 1000) / 1000;
  const toVip = (p: Packet) => options.vips.has(p.dst);
  const clientSent = publicPackets.filter(toVip).sort(byTime);
  const arrived = lanPackets.filter((p) =>
    toVip(p) && p.dstMac === roles.director && p.srcMac !== roles.director
  ).sort(byTime);
  const left = lanPackets.filter((p) => toVip(p) && p.srcMac === roles.director).sort(byTime);
  const inbound = follow(clientSent, arrived, windowS);
  const arrivedList = clientSent.flatMap((p) => inbound.has(p) ? [inbound.get(p)!] : []);
  const outbound = follow(arrivedList, left, windowS);
  const usedLeft = new Set(outbound.values());
  return {
    hops: clientSent.map((p) => {
      const a = inbound.get(p) ?? null;
      return { public: p, arrived: a, left: a ? outbound.get(a) ?? null : null };
    }),
    strayLeft: left.filter((p) => !usedLeft.has(p)),
  };
}

/** Names of the IPv4 header's bytes, for sentences. */
function headerField(offset: number): string {
  if (offset === 0) return "version/header length";
  if (offset === 1) return "TOS";
  if (offset < 4) return "total length";
  if (offset < 6) return "IP id";
  if (offset < 8) return "flags/fragment offset";
  if (offset === 9) return "protocol";
  if (offset < 16) return "source address";
  if (offset < 20) return "destination address";
  return "options";
}

/**
 * What the director changed beyond DR's two fields, in words, or null when `left` is
 * `arrived` byte for byte but for a TTL exactly one less and a header checksum that verifies.
 */
export function compareDrCopy(arrived: Packet, left: Packet): string | null {
  const a = arrived.ipBytes;
  const b = left.ipBytes;
  if (a.length !== b.length) return `the length changed from ${a.length} to ${b.length} bytes`;
  if (arrived.headerLength !== left.headerLength) {
    return `the IP header length changed from ${arrived.headerLength} to ${left.headerLength}`;
  }
  for (let i = 0; i < arrived.headerLength; i++) {
    if (i === 8 || i === 10 || i === 11 || a[i] === b[i]) continue;
    return `IP header byte ${i} (${headerField(i)}) changed from ${a[i]} to ${b[i]}`;
  }
  if (left.ttl !== arrived.ttl - 1) {
    return `TTL ${arrived.ttl} became ${left.ttl}, not ${arrived.ttl - 1}`;
  }
  if (!left.ipChecksumOk) return "the IP header checksum does not verify";
  for (let i = arrived.headerLength; i < a.length; i++) {
    if (a[i] !== b[i]) {
      return `byte ${i - arrived.headerLength} after the IP header changed from ${a[i]} to ${b[i]}`;
    }
  }
  return null;
}

/** One TCP connection (or UDP flow) on any capture, by its far and VIP ends and its SYN. */
export interface FlowEnds {
  far: string;
  vip: string;
}

/**
 * The connection's two ends by role: the VIP end (whichever side holds a VIP: the server
 * of a client's connection, the client of an active FTP data connection) and the far end.
 * Null when neither side is a VIP.
 */
export function flowEnds(c: Connection, vips: ReadonlySet<string>): FlowEnds | null {
  const client = `${c.client.addr}:${c.client.port}`;
  const server = `${c.server.addr}:${c.server.port}`;
  if (vips.has(c.server.addr)) return { far: client, vip: server };
  if (vips.has(c.client.addr)) return { far: server, vip: client };
  return null;
}

/** "far vip isn": the same connection on every capture (DR changes no address or port). */
export function flowKey(c: Connection, vips: ReadonlySet<string>): string | null {
  const ends = flowEnds(c, vips);
  return ends ? `${c.protocol} ${ends.far} ${ends.vip} ${c.clientIsn ?? "-"}` : null;
}

/**
 * For each connection of a VIP, the real servers that sent its VIP side's packets, from
 * their own interface captures (the VIP is on every real server, so only where the packets
 * were seen tells the servers apart): the server that holds the connection.
 */
export function answeringServers(
  serverPackets: ReadonlyMap<string, readonly Packet[]>,
  vips: ReadonlySet<string>,
): Map<string, string[]> {
  const answered = new Map<string, string[]>();
  for (const [host, packets] of serverPackets) {
    for (const c of groupConnections(packets)) {
      const k = flowKey(c, vips);
      const ends = flowEnds(c, vips);
      if (!k || !ends) continue;
      const sent = c.packets.some((p) => `${p.src}:${p.srcPort}` === ends.vip);
      if (!sent) continue;
      const list = answered.get(k) ?? [];
      if (!list.includes(host)) list.push(host);
      answered.set(k, list);
    }
  }
  return answered;
}
