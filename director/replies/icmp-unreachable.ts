// ICMP error messages the director originates (RFC 792), e.g. port unreachable when a UDP
// datagram reaches a VIP port with no service or no real server. Written in place: the
// original packet's head is moved back by 28 bytes (new IPv4 + ICMP header) to become the
// quoted part, then the new headers overwrite the front.
import { internetChecksum } from "../packet/checksum.ts";
import { PacketError, type PacketView } from "../packet/packet.ts";
import { IPPROTO_ICMP, IPV4_MIN_HEADER_LEN, type Ipv4View } from "../packet/ipv4.ts";
import { ICMP_HEADER_LEN, IcmpView } from "../packet/icmp.ts";
import {
  clearVnetHeader,
  isMulticastOrBroadcast,
  isValidReplyTarget,
  nextIpId,
  REPLY_IP_OFFSET,
  REPLY_L4_OFFSET,
  writeReplyIpHeader,
} from "./reply-header.ts";

/** ICMP header + quote start right after the reply's IPv4 header. */
/** RFC 792: an error quotes the IP header and at least the first 8 bytes after it. */
const ICMP_QUOTED_L4_LEN = 8;
const QUOTE_OFFSET = REPLY_L4_OFFSET + ICMP_HEADER_LEN;
/**
 * The kernel's icmp_send quotes as much of the original datagram as fits in a 576-byte
 * reply (RFC 1812 4.3.2.3): 576 - 20 (IPv4) - 8 (ICMP) = 548 bytes. So does this module.
 */
export const ICMP_ERROR_MAX_QUOTE = 576 - IPV4_MIN_HEADER_LEN - ICMP_HEADER_LEN;
/** IPTOS_TOS_MASK and IPTOS_PREC_INTERNETCONTROL: the TOS icmp_send gives errors. */
const IPTOS_TOS_MASK = 0x1e;
const IPTOS_PREC_INTERNETCONTROL = 0xc0;
/** The view the error's ICMP header is written through (re-bound per reply). */
const errorIcmp = new IcmpView();

/**
 * ICMP types that are not errors (Linux's icmp_pointers[].error == 0): echo reply/request,
 * timestamp, info and address mask request/reply. Any other type, known or not, counts as
 * an error and is never answered with an error (RFC 1122 3.2.2).
 */
function isInformational(type: number): boolean {
  return type === 0 || type === 8 || (type >= 13 && type <= 18);
}

/**
 * Replaces the packet in buf (parsed by view) with an ICMP error of `type`/`code` from
 * srcAddr (the VIP it was sent to) to the packet's source, quoting the original IPv4 header
 * and as much of its payload as fits in 576 bytes (at least the header + 8 bytes, or the
 * whole packet if shorter). `info` fills bytes 4..7 of the ICMP header (0 for port
 * unreachable; the next-hop MTU for fragmentation needed, type 3 code 4). IPv4: no options,
 * no DF, TTL 64, TOS as the kernel's icmp_send ((tos & 0x1e) | 0xc0), id from a counter.
 * Returns the bytes to write (vnet header + reply), or 0 = don't answer: an ICMP error (or
 * unknown ICMP type), a non-first fragment, a broadcast/multicast/0/8/loopback source, a
 * multicast/broadcast destination, a malformed packet, or a buffer too short for the quote.
 * Never throws.
 */
export function writeIcmpError(
  view: PacketView,
  buf: Uint8Array,
  type: number,
  code: number,
  srcAddr: number,
  info = 0,
): number {
  if (view.buf !== buf) return 0;
  const error = view.parse(buf, view.length);
  // Any protocol can be refused (the ip view stays bound for UNSUPPORTED_PROTOCOL).
  if (error !== PacketError.OK && error !== PacketError.UNSUPPORTED_PROTOCOL) return 0;
  const ip = view.ip;
  if (ip.protocol === IPPROTO_ICMP && (!view.l4Present || !isInformational(view.icmp.type))) {
    return 0;
  }
  return writeIcmpErrorAbout(ip, ip.totalLength, type, code, srcAddr, info);
}

/**
 * writeIcmpError for a packet of which only the first `available` bytes are at hand (the
 * client's packet quoted inside an ICMP error about a tunnel packet, as IPVS's icmp_send
 * answers it from the quote): `ip` is bound (bindHeader) at REPLY_IP_OFFSET of its buffer and
 * is not an ICMP error. The same rules and layout; the quote is at most what is at hand.
 */
export function writeIcmpErrorAbout(
  ip: Ipv4View,
  available: number,
  type: number,
  code: number,
  srcAddr: number,
  info = 0,
): number {
  const buf = ip.buf;
  if (ip.off !== REPLY_IP_OFFSET || ip.fragmentOffset !== 0) return 0;
  const origSrc = ip.src;
  if (!isValidReplyTarget(origSrc) || isMulticastOrBroadcast(ip.dst)) return 0;

  const total = ip.totalLength < available ? ip.totalLength : available;
  let quote = total < ICMP_ERROR_MAX_QUOTE ? total : ICMP_ERROR_MAX_QUOTE;
  if (QUOTE_OFFSET + quote > buf.length) quote = buf.length - QUOTE_OFFSET;
  const minQuote = ip.headerLength + ICMP_QUOTED_L4_LEN;
  if (quote < (total < minQuote ? total : minQuote)) return 0;
  const tos = (ip.tos & IPTOS_TOS_MASK) | IPTOS_PREC_INTERNETCONTROL;

  // Move the quoted part out of the way first: the new headers overwrite its old place.
  buf.copyWithin(QUOTE_OFFSET, REPLY_IP_OFFSET, REPLY_IP_OFFSET + quote);
  clearVnetHeader(buf);
  const icmpLength = ICMP_HEADER_LEN + quote;
  const ipLength = IPV4_MIN_HEADER_LEN + icmpLength;
  writeReplyIpHeader(buf, tos, ipLength, nextIpId(), 0, IPPROTO_ICMP, srcAddr, origSrc);
  const icmp = errorIcmp;
  icmp.bind(buf, REPLY_L4_OFFSET, icmpLength);
  icmp.type = type;
  icmp.code = code;
  icmp.checksum = 0;
  icmp.restOfHeader = info;
  icmp.checksum = internetChecksum(buf, REPLY_L4_OFFSET, icmpLength);
  return REPLY_L4_OFFSET + icmpLength;
}
