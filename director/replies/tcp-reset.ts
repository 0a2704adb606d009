// The RST the director sends for a TCP segment to a VIP port with no virtual service, as the
// kernel's tcp_v4_send_reset would (RFC 793, "Reset Generation", CLOSED state): written in
// place over the segment it answers.
import { internetChecksum, pseudoHeaderSum } from "../packet/checksum.ts";
import { PacketError, type PacketView } from "../packet/packet.ts";
import { IPPROTO_TCP, IPV4_DF, IPV4_MIN_HEADER_LEN } from "../packet/ipv4.ts";
import { TCP_ACK, TCP_FIN, TCP_MIN_HEADER_LEN, TCP_RST, TCP_SYN, TcpView } from "../packet/tcp.ts";
import {
  clearVnetHeader,
  isMulticastOrBroadcast,
  isValidReplyTarget,
  REPLY_L4_OFFSET,
  writeReplyIpHeader,
} from "./reply-header.ts";

/** Bytes a RST occupies in the buffer: vnet header + IPv4 (20) + TCP (20). */
export const TCP_RESET_LENGTH = REPLY_L4_OFFSET + TCP_MIN_HEADER_LEN;
/** The view the RST's TCP header is written through (re-bound per reply). */
const resetTcp = new TcpView();

/**
 * Turns the TCP segment in buf (parsed by view, client → VIP:port) into the RST that answers
 * it: source VIP:port, destination client:port. RFC 793: if the segment has ACK, the RST has
 * seq = SEG.ACK and no ACK flag; otherwise seq = 0, ACK flag, ack = SEG.SEQ + SEG.LEN (payload
 * + SYN + FIN). IPv4: no options, DF set, id 0 (as the kernel for DF replies without a
 * connected socket), TTL 64, TOS reflected with ECN cleared. IP and TCP checksums computed in
 * full; vnet header cleared. Returns the bytes to write (TCP_RESET_LENGTH), or 0 when no RST
 * may be sent: not a complete unfragmented TCP segment, the segment is itself a RST, or a
 * source/destination that must not be answered (broadcast, multicast, 0/8, loopback).
 * Re-parses buf with view, so a stale view is harmless; never throws.
 */
export function writeTcpReset(view: PacketView, buf: Uint8Array): number {
  if (view.buf !== buf || view.parse(buf, view.length) !== PacketError.OK) return 0;
  const ip = view.ip;
  if (ip.protocol !== IPPROTO_TCP || !view.l4Present || ip.isFragment) return 0;
  const tcp = view.tcp;
  const inFlags = tcp.flags;
  // Never answer a reset with a reset.
  if ((inFlags & TCP_RST) !== 0) return 0;
  const client = ip.src;
  const vip = ip.dst;
  if (!isValidReplyTarget(client) || isMulticastOrBroadcast(vip)) return 0;
  // Everything the RST needs is read before the header is overwritten (IP options and TCP
  // options make the old headers overlap the new ones).
  const clientPort = tcp.srcPort;
  const vport = tcp.dstPort;
  const tos = ip.tos & 0xfc;
  let seq: number;
  let ack: number;
  let flags: number;
  if ((inFlags & TCP_ACK) !== 0) {
    seq = tcp.ack;
    ack = 0;
    flags = TCP_RST;
  } else {
    const segLen = tcp.payloadLength + ((inFlags & TCP_SYN) !== 0 ? 1 : 0) +
      ((inFlags & TCP_FIN) !== 0 ? 1 : 0);
    seq = 0;
    ack = (tcp.seq + segLen) >>> 0;
    flags = TCP_RST | TCP_ACK;
  }

  clearVnetHeader(buf);
  const ipLength = IPV4_MIN_HEADER_LEN + TCP_MIN_HEADER_LEN;
  writeReplyIpHeader(buf, tos, ipLength, 0, IPV4_DF, IPPROTO_TCP, vip, client);
  const rst = resetTcp;
  rst.attach(buf, REPLY_L4_OFFSET, TCP_MIN_HEADER_LEN);
  rst.srcPort = vport;
  rst.dstPort = clientPort;
  rst.seq = seq;
  rst.ack = ack;
  rst.dataOffset = TCP_MIN_HEADER_LEN >>> 2; // no options
  rst.flags = flags;
  rst.window = 0;
  rst.checksum = 0;
  rst.urgentPointer = 0;
  const pseudo = pseudoHeaderSum(vip, client, IPPROTO_TCP, TCP_MIN_HEADER_LEN);
  rst.checksum = internetChecksum(buf, REPLY_L4_OFFSET, TCP_MIN_HEADER_LEN, pseudo);
  return TCP_RESET_LENGTH;
}
