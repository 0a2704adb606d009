// The client's packet as it goes inside a tunnel: copied out of the TUN read (in the send
// socket's native block) with every checksum complete, because the real server's end of
// the tunnel gets it as plain bytes (a raw or UDP socket, or a tunnel device that trusts
// nothing partial). A TSO super-packet is cut into the segments the kernel's TCP
// segmentation would make (tcp_gso_segment): the vnet header has no type for TCP inside
// IPIP, GUE or GRE, so the kernel cannot segment it after encapsulation.
import { internetChecksum, pseudoHeaderSum } from "../packet/checksum.ts";
import { IPPROTO_TCP, IPPROTO_UDP } from "../packet/ipv4.ts";
import { TCP_CHECKSUM_OFFSET, TCP_CWR, TCP_FIN, TCP_PSH, TCP_SEQ_OFFSET } from "../packet/tcp.ts";
import { UDP_CHECKSUM_OFFSET } from "../packet/udp.ts";

function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function put32(b: Uint8Array, at: number, v: number): void {
  put16(b, at, v >>> 16);
  put16(b, at + 2, v & 0xffff);
}

/** The L4 checksum of the IPv4 packet at b[ip] recomputed in full (field taken as 0). */
function completeL4Checksum(b: Uint8Array, ip: number): void {
  const ipHl = (b[ip]! & 0x0f) * 4;
  const proto = b[ip + 9]!;
  const l4 = ip + ipHl;
  const l4Len = u16(b, ip + 2) - ipHl;
  const field = l4 + (proto === IPPROTO_TCP ? TCP_CHECKSUM_OFFSET : UDP_CHECKSUM_OFFSET);
  put16(b, field, 0);
  const pseudo = pseudoHeaderSum(u32(b, ip + 12), u32(b, ip + 16), proto, l4Len);
  const check = internetChecksum(b, l4, l4Len, pseudo);
  // UDP's 0 means "no checksum": a computed 0 is sent as 0xffff (RFC 768).
  put16(b, field, proto === IPPROTO_UDP && check === 0 ? 0xffff : check);
}

/**
 * Copies the IPv4 packet at b[src] (`length` bytes) to b[dst]; with `partial` (the vnet
 * header's NEEDS_CSUM: the L4 field holds only the pseudo-header sum) the checksum is
 * finished. Returns the length.
 */
export function copyWholePacket(
  b: Uint8Array,
  src: number,
  length: number,
  dst: number,
  partial: boolean,
): number {
  b.copyWithin(dst, src, src + length);
  const proto = b[dst + 9]!;
  if (partial && (proto === IPPROTO_TCP || proto === IPPROTO_UDP)) completeL4Checksum(b, dst);
  return length;
}

/** The shape of a TCP super-packet: header lengths, payload length, segment size. */
export interface SuperPacket {
  ipHl: number;
  tcpHl: number;
  payloadLen: number;
  mss: number;
}

export function segmentCount(p: SuperPacket): number {
  return Math.ceil(p.payloadLen / p.mss);
}

/**
 * Writes segment k of the TCP super-packet at b[src] to b[dst]: its headers with the total
 * length, IP id (+k) and sequence number (+k·mss) of that segment, FIN and PSH only on the
 * last, CWR only on the first, both checksums complete. Returns the segment's length.
 */
export function copySegment(
  b: Uint8Array,
  src: number,
  p: SuperPacket,
  k: number,
  dst: number,
): number {
  const headers = p.ipHl + p.tcpHl;
  const from = k * p.mss;
  const chunk = Math.min(p.mss, p.payloadLen - from);
  b.copyWithin(dst, src, src + headers);
  b.copyWithin(dst + headers, src + headers + from, src + headers + from + chunk);
  const length = headers + chunk;
  put16(b, dst + 2, length);
  put16(b, dst + 4, (u16(b, src + 4) + k) & 0xffff);
  put16(b, dst + 10, 0);
  put16(b, dst + 10, internetChecksum(b, dst, p.ipHl));
  const tcp = dst + p.ipHl;
  put32(b, tcp + TCP_SEQ_OFFSET, (u32(b, src + p.ipHl + TCP_SEQ_OFFSET) + from) >>> 0);
  let flags = b[tcp + 13]!;
  if (from + chunk < p.payloadLen) flags &= ~(TCP_FIN | TCP_PSH);
  if (k > 0) flags &= ~TCP_CWR;
  b[tcp + 13] = flags;
  completeL4Checksum(b, dst);
  return length;
}
