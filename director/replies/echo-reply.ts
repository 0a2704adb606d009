// Answers ping to a VIP like the kernel's icmp_echo: the request becomes the reply in place.
import { checksumReplace16, internetChecksum } from "../packet/checksum.ts";
import { ICMP_ECHO, ICMP_ECHO_REPLY, IcmpView } from "../packet/icmp.ts";
import { PacketError, type PacketView } from "../packet/packet.ts";
import { IPPROTO_ICMP, IPV4_MIN_HEADER_LEN } from "../packet/ipv4.ts";
import {
  clearVnetHeader,
  isMulticastOrBroadcast,
  isValidReplyTarget,
  nextIpId,
  REPLY_L4_OFFSET,
  writeReplyIpHeader,
} from "./reply-header.ts";

/** The view the reply's ICMP header is written through (re-bound per reply). */
const replyIcmp = new IcmpView();

/**
 * Turns an ICMP echo request in buf (parsed by view) into the echo reply: addresses swapped,
 * type 0 code 0, identifier/sequence/data kept. IP options are dropped (the message moves up
 * to offset 30), TTL 64, TOS kept, no DF, id from a counter; vnet header cleared.
 * The request's checksum is verified unless the vnet header says DATA_VALID (a bad one gets
 * no answer, as icmp_rcv drops it); the reply's is then updated incrementally (RFC 1624), or
 * computed in full if the request carried a partial (NEEDS_CSUM) sum.
 * Returns the bytes to write, or 0: not an echo request, fragmented (the kernel would
 * reassemble first), bad checksum, or a source/destination that must not be answered
 * (broadcast, multicast, 0/8, loopback: icmp_echo_ignore_broadcasts). Never throws.
 */
export function writeEchoReply(view: PacketView, buf: Uint8Array): number {
  if (view.buf !== buf || view.parse(buf, view.length) !== PacketError.OK) return 0;
  const ip = view.ip;
  if (ip.protocol !== IPPROTO_ICMP || !view.l4Present || ip.isFragment) return 0;
  const icmp = view.icmp;
  if (icmp.type !== ICMP_ECHO) return 0;
  const client = ip.src;
  const vip = ip.dst;
  if (!isValidReplyTarget(client) || isMulticastOrBroadcast(vip)) return 0;
  const icmpOff = icmp.off;
  const length = icmp.length;
  const partial = view.vnet.needsCsum;
  if (!partial && !view.vnet.dataValid && internetChecksum(buf, icmpOff, length) !== 0) return 0;
  const oldTypeCode = (ICMP_ECHO << 8) | icmp.code;
  const oldChecksum = icmp.checksum;
  const tos = ip.tos;

  if (icmpOff !== REPLY_L4_OFFSET) buf.copyWithin(REPLY_L4_OFFSET, icmpOff, icmpOff + length);
  clearVnetHeader(buf);
  const ipLength = IPV4_MIN_HEADER_LEN + length;
  writeReplyIpHeader(buf, tos, ipLength, nextIpId(), 0, IPPROTO_ICMP, vip, client);
  const reply = replyIcmp;
  reply.bind(buf, REPLY_L4_OFFSET, length);
  reply.type = ICMP_ECHO_REPLY;
  reply.code = 0;
  if (partial) {
    reply.checksum = 0;
    reply.checksum = internetChecksum(buf, REPLY_L4_OFFSET, length);
  } else {
    reply.checksum = checksumReplace16(oldChecksum, oldTypeCode, ICMP_ECHO_REPLY << 8);
  }
  return REPLY_L4_OFFSET + length;
}
