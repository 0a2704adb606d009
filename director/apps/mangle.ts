// Replacing bytes in the payload of a TCP packet in place, possibly changing its length
// (IPVS's ip_vs_skb_replace / netfilter's nf_nat_mangle_tcp_packet): the tail moves, the IP
// total length and header checksum follow, and the TCP checksum is computed again in full
// (an incremental update cannot follow a length change through the pseudo-header and the
// shifted bytes). A NEEDS_CSUM packet instead gets its pseudo-header sum for the new length;
// the kernel sums the payload when it sends the packet. The masq rewrite that runs after
// this adjusts both checksums incrementally as for any other packet.
import { foldSum, pseudoHeaderSum } from "../packet/checksum.ts";
import type { PacketView } from "../packet/packet.ts";
import { IPPROTO_TCP } from "../packet/ipv4.ts";

/** Largest IPv4 packet. */
const IP_MAX_LENGTH = 0xffff;

/** True when the TCP checksum of a complete (not NEEDS_CSUM) packet verifies. */
export function tcpChecksumValid(view: PacketView): boolean {
  if (view.vnet.needsCsum) return true; // the sender has not computed it yet
  return view.tcp.checksum === view.computeL4Checksum();
}

/**
 * Replaces payload bytes buf[start, end) with text[0, textLength). `start` and `end` are
 * absolute offsets inside the TCP payload of the bound packet. Returns the change in length
 * (new - old), or NaN when the packet cannot grow that much (no room in the buffer, or past
 * 65535 bytes) — then nothing was changed.
 */
export function replacePayload(
  view: PacketView,
  start: number,
  end: number,
  text: Uint8Array,
  textLength: number,
): number {
  const ip = view.ip;
  const tcp = view.tcp;
  const payloadStart = tcp.payloadOffset;
  const packetEnd = view.packetEnd;
  if (start < payloadStart || end < start || end > packetEnd) {
    throw new RangeError(`payload range ${start}..${end} is outside ${payloadStart}..${packetEnd}`);
  }
  const buf = view.buf;
  const diff = textLength - (end - start);
  const newTotal = ip.totalLength + diff;
  if (packetEnd + diff > buf.length || newTotal > IP_MAX_LENGTH) return NaN;
  if (diff !== 0) buf.copyWithin(end + diff, end, packetEnd);
  buf.set(text.subarray(0, textLength), start);
  if (diff !== 0) {
    ip.totalLength = newTotal;
    ip.checksum = ip.computeChecksum();
    tcp.length += diff;
    view.length = packetEnd + diff;
  }
  const l4Length = ip.l4Length;
  if (view.vnet.needsCsum) {
    tcp.checksum = foldSum(pseudoHeaderSum(ip.src, ip.dst, IPPROTO_TCP, l4Length));
  } else {
    tcp.checksum = view.computeL4Checksum();
  }
  return diff;
}
