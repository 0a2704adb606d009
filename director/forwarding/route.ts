// VS/DR ("Route", ipvsadm -g; IPVS's ip_vs_dr_xmit): the client's packet, unchanged but for
// TTL−1 and the IP header checksum, in an Ethernet frame to the real server's MAC on a
// network both share, sent through the packet socket of the interface facing the server
// (director/net/link-table.ts). The real server holds the VIP itself and answers the client
// directly, so the director sees only the client's direction (CONN_F_NOOUTPUT).
import { CONN_F_NOOUTPUT } from "../engine/conn-table.ts";
import { DropReason } from "../engine/drop-counters.ts";
import { NO_NEXT_HOP } from "../service/types.ts";
import { checksumReplace16 } from "../packet/checksum.ts";
import { ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, ICMP_TIME_EXCEEDED } from "../packet/icmp.ts";
import { writeIcmpError } from "../replies/icmp-unreachable.ts";
import type { EmbeddedPacket } from "../icmp/icmp-translate.ts";
import type { ForwardingMethod, TransmitContext } from "./method.ts";

/** ICMP time exceeded's code for a TTL that ran out in transit (RFC 792). */
const ICMP_EXC_TTL = 0;

/**
 * Hands the packet to the link facing the connection's real server. Returns what the TUN
 * device gets back: 0 (queued on the link, or dropped and counted), or the length of an
 * ICMP error for the packet's source, written over it, as IPVS's decrement_ttl and
 * ensure_mtu_is_adequate send: time exceeded when the TTL runs out, fragmentation needed
 * (with the link's MTU) for a DF packet too big for the link.
 */
function transmitToRealServer(ctx: TransmitContext, slot: number, length: number): number {
  const { view, conns, links, drops } = ctx;
  const dest = conns.dest[slot]!;
  let hop = dest.nextHop;
  if (hop === NO_NEXT_HOP) {
    // Once per server: the control thread places it in the link table just after `-a`.
    hop = links.nextHopOf(dest.addr);
    if (hop === NO_NEXT_HOP) {
      drops.count(DropReason.NEIGHBOUR_PENDING);
      return 0;
    }
    dest.nextHop = hop;
  }
  const reason = links.unusable(hop);
  if (reason !== 0) {
    drops.count(reason);
    return 0;
  }
  const ip = view.ip;
  const ttl = ip.ttl;
  if (ttl <= 1) {
    drops.count(DropReason.TTL_EXCEEDED);
    return writeIcmpError(view, view.buf, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, ip.dstInt);
  }
  const mtu = links.mtuOf(hop);
  if (ip.totalLength > mtu && !view.vnet.isGso) {
    drops.count(DropReason.FRAME_TOO_BIG);
    if (!ip.dontFragment) return 0;
    return writeIcmpError(view, view.buf, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, ip.dstInt, mtu);
  }
  // ip_decrease_ttl: the TTL is the high byte of the header's fifth 16-bit word.
  const protocol = ip.protocol;
  ip.ttl = ttl - 1;
  ip.checksum = checksumReplace16(ip.checksum, (ttl << 8) | protocol, ((ttl - 1) << 8) | protocol);
  links.queue(hop, view.buf, length);
  return 0;
}

/** Replies bypass the director; one that reaches it anyway is routed on unchanged. */
function passUnchanged(_ctx: TransmitContext, _slot: number, length: number): number {
  return length;
}

/**
 * ip_vs_in_icmp for a DR connection: an error from the client's side about a reply the real
 * server sent goes to that server unchanged ("no need to translate address/port back").
 */
function icmpToRealServer(ctx: TransmitContext, _emb: EmbeddedPacket, slot: number): number {
  return transmitToRealServer(ctx, slot, ctx.view.packetEnd);
}

export const ROUTE: ForwardingMethod = {
  name: "route",
  transmits: true,
  initialConnFlags: CONN_F_NOOUTPUT,
  runsAppHelpers: false,
  transmitInbound: transmitToRealServer,
  transmitOutbound: passUnchanged,
  transmitInboundFragment: transmitToRealServer,
  transmitOutboundFragment: passUnchanged,
  transmitIcmpInbound: icmpToRealServer,
  transmitIcmpOutbound: (ctx, _emb, _slot) => ctx.view.packetEnd,
};
