// VS/DR ("Route", ipvsadm -g; IPVS's ip_vs_dr_xmit): the client's packet, unchanged but for
// TTL−1 and the IP header checksum, in an Ethernet frame to the real server's MAC on a
// network both share, sent through the packet socket of the interface facing the server
// (director/net/link-table.ts). The real server holds the VIP itself and answers the client
// directly, so the director sees only the client's direction (CONN_F_NOOUTPUT).
//   The TTL: the kernel lowered it (and sent time exceeded for an expired one) when it
// forwarded the packet into the TUN device, and the frame bypasses its forwarding on the
// way out, so the packet leaves as read: one less than the client's, as IPVS sends it.
import { CONN_F_NOOUTPUT } from "../engine/conn-table.ts";
import { DropReason } from "../engine/drop-counters.ts";
import { NO_NEXT_HOP } from "../service/types.ts";
import { ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED } from "../packet/icmp.ts";
import { writeIcmpError } from "../replies/icmp-unreachable.ts";
import type { EmbeddedPacket } from "../icmp/icmp-translate.ts";
import { type ForwardingMethod, passOnUnchanged, type TransmitContext } from "./method.ts";

/**
 * Hands the packet to the link facing the connection's real server. Returns what the TUN
 * device gets back: 0 (queued on the link, or dropped and counted), or the length of the
 * ICMP error IPVS's ensure_mtu_is_adequate sends the packet's source, written over it:
 * fragmentation needed (with the link's MTU) for a DF packet too big for the link.
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
  const mtu = links.mtuOf(hop);
  if (ip.totalLength > mtu && !view.vnet.isGso) {
    drops.count(DropReason.FRAME_TOO_BIG);
    if (!ip.dontFragment) return 0;
    return writeIcmpError(view, view.buf, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, ip.dstInt, mtu);
  }
  links.queue(hop, view.buf, length);
  return 0;
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
  initialConnFlags: CONN_F_NOOUTPUT,
  runsAppHelpers: false,
  transmitInbound: transmitToRealServer,
  transmitOutbound: passOnUnchanged,
  transmitInboundFragment: transmitToRealServer,
  transmitOutboundFragment: passOnUnchanged,
  transmitIcmpInbound: icmpToRealServer,
  transmitIcmpOutbound: (ctx, _emb, _slot) => passOnUnchanged(ctx, 0, ctx.view.packetEnd),
};
