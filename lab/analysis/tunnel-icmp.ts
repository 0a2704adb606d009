// ICMP errors about VS/TUN packets as the captures show them: a router beyond the director
// that cannot forward one of its tunnel packets tells the director (on the director's own
// port), quoting the tunnel packet; the director passes the error on to the client about
// the client's own packet, which is inside that quote (director/icmp/tunnel-icmp.ts). The
// quotes are matched by their first bytes: the IPv4 header and 8 bytes after it, which the
// router and the director quote unchanged.
import type { Packet } from "./packet.ts";

/** The bytes of a quote that identify the packet: its IPv4 header (no options) and 8 more. */
const KEY_LEN = 28;
/**
 * A tunnel packet's: 20 more, to reach into the client packet's header (its IP id): outer
 * headers alone repeat (the same ports, lengths, an id the kernel may leave 0).
 */
export const TUNNEL_KEY_LEN = KEY_LEN + 20;
const ICMP_HEADER_LEN = 8;
const ICMP_ERROR_TYPES = new Set([3, 4, 11]);
/** Tunnel headers after the outer IPv4 header, as the director writes them. */
const UDP_GUE_LEN = 8 + 4;
const GRE_BASE_LEN = 4;

/** A router's error about one of the director's tunnel packets. */
export interface TunnelIcmpError {
  /** The error as the director's port captured it. */
  packet: Packet;
  type: number;
  code: number;
  /** Bytes 6-7 of the ICMP header: the next-hop MTU of fragmentation needed. */
  mtu: number;
  /** The real server the quoted tunnel packet was for. */
  server: string;
  /** The quoted tunnel packet's identifying bytes (its TUNNEL_KEY_LEN-byte packetKey). */
  tunnelKey: string;
  /** The client packet inside the quote: its identifying bytes, null when cut off. */
  innerKey: string | null;
  /** The outer header and the tunnel header: what the tunnel takes from the MTU. */
  headers: number;
}

function hex(b: Uint8Array, from: number, length: number): string | null {
  if (from + length > b.length) return null;
  return Buffer.from(b.subarray(from, from + length)).toString("hex");
}

/** The identifying bytes of a captured packet (what an ICMP error about it quotes first). */
export function packetKey(p: Packet, length = KEY_LEN): string | null {
  return hex(p.ipBytes, 0, length);
}

/** Where the quote of an ICMP error starts in its packet, or -1 if it is no error. */
function quoteAt(p: Packet): number {
  if (!p.icmp || !ICMP_ERROR_TYPES.has(p.icmp.type)) return -1;
  return p.headerLength + ICMP_HEADER_LEN;
}

/** The identifying bytes of the packet an ICMP error quotes, or null. */
export function quoteKey(p: Packet): string | null {
  const at = quoteAt(p);
  return at < 0 ? null : hex(p.ipBytes, at, KEY_LEN);
}

/** "addr:port" of the source of the packet an ICMP error quotes (TCP/UDP), or null. */
export function quotedSource(p: Packet): string | null {
  const at = quoteAt(p);
  const b = p.ipBytes;
  if (at < 0 || at + 20 > b.length) return null;
  const l4 = at + ((b[at] & 0x0f) << 2);
  if (l4 + 2 > b.length) return null;
  return `${b[at + 12]}.${b[at + 13]}.${b[at + 14]}.${b[at + 15]}:${(b[l4] << 8) | b[l4 + 1]}`;
}

/** The next-hop MTU of an ICMP error (bytes 6-7 of its header). */
export function icmpMtu(p: Packet): number {
  const at = p.headerLength + 6;
  return (p.ipBytes[at] << 8) | p.ipBytes[at + 1];
}

/**
 * The ICMP errors sent to the director (on its own port's capture) that quote a packet from
 * the director: its tunnel packets (IPIP, GUE or GRE).
 */
export function tunnelIcmpErrors(
  directorPackets: readonly Packet[],
  director: string,
): TunnelIcmpError[] {
  const out: TunnelIcmpError[] = [];
  for (const p of directorPackets) {
    const at = quoteAt(p);
    if (at < 0 || p.dst !== director) continue;
    const b = p.ipBytes;
    const tunnelKey = hex(b, at, TUNNEL_KEY_LEN);
    if (tunnelKey === null) continue;
    const src = `${b[at + 12]}.${b[at + 13]}.${b[at + 14]}.${b[at + 15]}`;
    if (src !== director) continue;
    const proto = b[at + 9];
    const tunnel = at + ((b[at] & 0x0f) << 2);
    let len: number;
    if (proto === 4) len = 0;
    else if (proto === 17) {
      len = UDP_GUE_LEN + (tunnel + 8 < b.length ? (b[tunnel + 8] & 0x1f) << 2 : 0);
    } else if (proto === 47) len = GRE_BASE_LEN + (tunnel < b.length && b[tunnel] & 0x80 ? 4 : 0);
    else continue;
    out.push({
      packet: p,
      server: `${b[at + 16]}.${b[at + 17]}.${b[at + 18]}.${b[at + 19]}`,
      type: p.icmp!.type,
      code: p.icmp!.code,
      mtu: icmpMtu(p),
      tunnelKey,
      innerKey: hex(b, tunnel + len, KEY_LEN),
      headers: 20 + len,
    });
  }
  return out;
}

/** Seconds a tunnel packet may have been on its way before the router's first report. */
const IN_FLIGHT_S = 1;

/**
 * Whether a router said the tunnel packet could not reach its server: an error quoting it,
 * or (routers limit their ICMP rate, so not every packet gets one) a fragmentation needed
 * for its server with an MTU it exceeds, with DF, sent from shortly before that report on.
 */
export function undeliverableCheck(errors: readonly TunnelIcmpError[]): (outer: Packet) => boolean {
  const keys = new Set(errors.map((e) => e.tunnelKey));
  const limits = errors.filter((e) => e.type === 3 && e.code === 4);
  return (outer) =>
    keys.has(packetKey(outer, TUNNEL_KEY_LEN) ?? "") ||
    limits.some((l) =>
      l.server === outer.dst && outer.dontFragment && outer.totalLength > l.mtu &&
      outer.time >= l.packet.time - IN_FLIGHT_S
    );
}
