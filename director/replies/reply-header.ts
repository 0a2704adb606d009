// Shared pieces of the packets the director writes itself (TCP RST, ICMP errors, echo
// replies): the IPv4 header of a locally generated packet, the vnet header reset, and the
// address checks that keep the director from answering what it must not answer
// (RFC 1122 3.2.2 / 4.2.2.12, RFC 1812 4.3.2.7). A reply is written in place over the
// packet it answers and flows the other way, so nothing of the request's offload state
// (vnet flags, GSO) may survive.
import { IPV4_MIN_HEADER_LEN, Ipv4View } from "../packet/ipv4.ts";
import { VNET_HDR_LEN } from "../packet/vnet-header.ts";

/** The kernel's default TTL (net.ipv4.ip_default_ttl). */
export const REPLY_TTL = 64;
/** Offset of the reply's IPv4 header (no options) and of its L4 header in the buffer. */
export const REPLY_IP_OFFSET = VNET_HDR_LEN;
export const REPLY_L4_OFFSET = VNET_HDR_LEN + IPV4_MIN_HEADER_LEN;
/** The one view replies are written through (re-bound per reply: no allocation). */
const replyIp = new Ipv4View();

let ipIdCounter = 0;

/**
 * IP id for replies sent without DF (ICMP): a wrapping counter, enough to keep fragments of
 * different replies apart (replies are ≤ 576 bytes and are not fragmented in practice).
 */
export function nextIpId(): number {
  ipIdCounter = (ipIdCounter + 1) & 0xffff;
  return ipIdCounter;
}

/** 224.0.0.0/4 multicast, 240.0.0.0/4 reserved, 255.255.255.255 limited broadcast. */
export function isMulticastOrBroadcast(addr: number): boolean {
  return (addr >>> 28) >= 14;
}

/**
 * An address a reply may be sent to: not 0.0.0.0/8 ("this network"), not 127.0.0.0/8
 * (loopback, martian on a wire), not multicast, reserved or broadcast.
 */
export function isValidReplyTarget(addr: number): boolean {
  const first = addr >>> 24;
  return first !== 0 && first !== 127 && first < 224;
}

/** Resets the vnet header: no NEEDS_CSUM, no GSO, all fields 0. */
export function clearVnetHeader(buf: Uint8Array): void {
  buf.fill(0, 0, VNET_HDR_LEN);
}

/** Writes a 20-byte IPv4 header (no options) at REPLY_IP_OFFSET, checksum computed in full. */
export function writeReplyIpHeader(
  buf: Uint8Array,
  tos: number,
  totalLength: number,
  id: number,
  flagsFragOffset: number,
  proto: number,
  src: number,
  dst: number,
): void {
  replyIp.buf = buf;
  replyIp.off = REPLY_IP_OFFSET;
  replyIp.writeHeader(tos, totalLength, id, flagsFragOffset, REPLY_TTL, proto, src, dst);
}
