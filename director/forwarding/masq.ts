// VS/NAT ("Masq"): the director rewrites the destination of client packets to the chosen
// real server and the source of the replies back to the virtual service, adjusting the IP
// and L4 checksums incrementally (RFC 1624). With NEEDS_CSUM the L4 field holds only the
// pseudo-header sum, so only address changes touch it; ports are summed later by the kernel.
//   Where the rewritten packet goes: back into the TUN device, for the kernel to route and
// forward (--nat-transmit tun), or, with --nat-transmit packet, in a frame to its next hop
// straight from the packet socket of the interface it leaves by (director/net/nat-routes.ts),
// as VS/DR's frames go. The frame skips the kernel's second forwarding, so it leaves with
// the TTL as read, one less than the client's or server's, as IPVS sends it; whatever the
// link path cannot take (no next hop known, MAC unresolved, too big for the link) is written
// back into the TUN device as before.
import type { PacketView } from "../packet/packet.ts";
import {
  checksumReplace16,
  checksumReplace32,
  partialReplace32,
  udpChecksumReplace16,
  udpChecksumReplace32,
} from "../packet/checksum.ts";
import { IPPROTO_TCP } from "../packet/ipv4.ts";
import { rewriteFragmentAddresses } from "../engine/fragment-tracker.ts";
import {
  type EmbeddedPacket,
  translateIcmpFromRealServer,
  translateIcmpToRealServer,
} from "../icmp/icmp-translate.ts";
import { type ForwardingMethod, ICMP_NOT_HANDLED, type TransmitContext } from "./method.ts";
import { NO_NEXT_HOP } from "../service/types.ts";
import { NatFallback } from "../net/nat-routes.ts";

/** UDP's header: what a UDP super-packet's segments carry before their gso_size bytes. */
const UDP_HEADER_LEN = 8;

/** Rewrites the L4 checksum for an address change (oldAddr → newAddr) and a port change. */
function adjustL4Checksum(
  view: PacketView,
  oldAddr: number,
  newAddr: number,
  oldPort: number,
  newPort: number,
): void {
  const partial = view.vnet.needsCsum;
  if (view.ip.protocol === IPPROTO_TCP) {
    const tcp = view.tcp;
    if (partial) tcp.checksum = partialReplace32(tcp.checksum, oldAddr, newAddr);
    else {
      tcp.checksum = checksumReplace16(
        checksumReplace32(tcp.checksum, oldAddr, newAddr),
        oldPort,
        newPort,
      );
    }
  } else {
    const udp = view.udp;
    if (partial) udp.checksum = partialReplace32(udp.checksum, oldAddr, newAddr);
    else {
      udp.checksum = udpChecksumReplace16(
        udpChecksumReplace32(udp.checksum, oldAddr, newAddr),
        oldPort,
        newPort,
      );
    }
  }
}

/** Client → real server: destination becomes the real server's address and port. */
export function rewriteInboundMasq(view: PacketView, daddr: number, dport: number): void {
  const ip = view.ip;
  const oldAddr = ip.dstInt;
  ip.dst = daddr;
  ip.checksum = checksumReplace32(ip.checksum, oldAddr, daddr);
  const l4 = ip.protocol === IPPROTO_TCP ? view.tcp : view.udp;
  const oldPort = l4.dstPort;
  l4.dstPort = dport;
  adjustL4Checksum(view, oldAddr, daddr, oldPort, dport);
}

/** Real server → client: source becomes the virtual address and port. */
export function rewriteOutboundMasq(view: PacketView, vaddr: number, vport: number): void {
  const ip = view.ip;
  const oldAddr = ip.srcInt;
  ip.src = vaddr;
  ip.checksum = checksumReplace32(ip.checksum, oldAddr, vaddr);
  const l4 = ip.protocol === IPPROTO_TCP ? view.tcp : view.udp;
  const oldPort = l4.srcPort;
  l4.srcPort = vport;
  adjustL4Checksum(view, oldAddr, vaddr, oldPort, vport);
}

/**
 * Hands the rewritten packet, buf[0, length), to next hop `hop`'s link: 0 when queued, or
 * `length` to write it back into the TUN device (counted by reason) when the hop is not
 * known or not usable, or the packet (each segment of a super-packet) exceeds the link's MTU.
 */
function leaveByLink(ctx: TransmitContext, hop: number, length: number): number {
  const { links, natRoutes, view } = ctx;
  if (hop === NO_NEXT_HOP) {
    natRoutes.fallbacks[NatFallback.NO_NEXT_HOP]++;
    return length;
  }
  if (links.unusable(hop) !== 0) {
    natRoutes.fallbacks[NatFallback.NEIGHBOUR]++;
    return length;
  }
  const ip = view.ip;
  const vnet = view.vnet;
  const mtu = links.mtuOf(hop);
  const size = vnet.isGso
    ? ip.headerLength + (ip.protocol === IPPROTO_TCP ? view.tcp.headerLength : UDP_HEADER_LEN) +
      vnet.gsoSize
    : ip.totalLength;
  if (size > mtu) {
    natRoutes.fallbacks[NatFallback.TOO_BIG]++;
    return length;
  }
  links.queue(hop, view.buf, length);
  natRoutes.framesQueued++;
  return 0;
}

/** Client → real server over a link: the server's next hop, cached per server. */
function toRealServerByLink(ctx: TransmitContext, slot: number, length: number): number {
  const dest = ctx.conns.dest[slot]!;
  let hop = dest.nextHop;
  if (hop === NO_NEXT_HOP) dest.nextHop = hop = ctx.natRoutes.nextHopOf(dest.addr);
  return leaveByLink(ctx, hop, length);
}

/** Real server → client over a link: the client's next hop, cached per connection. */
function toClientByLink(ctx: TransmitContext, slot: number, length: number): number {
  const replyHop = ctx.conns.replyHop;
  let hop = replyHop[slot]!;
  if (hop === NO_NEXT_HOP) replyHop[slot] = hop = ctx.natRoutes.nextHopOf(ctx.conns.caddr[slot]!);
  return leaveByLink(ctx, hop, length);
}

/**
 * The method table's entry (ip_vs_nat_xmit and ip_vs_icmp_xmit): both directions pass the
 * director, each rewritten in place, its length unchanged; fragments and ICMP errors are
 * always written back into the TUN device (rare, and the kernel's to fragment or route).
 */
export const MASQ: ForwardingMethod = {
  name: "masq",
  initialConnFlags: 0,
  runsAppHelpers: true,
  transmitInbound(ctx: TransmitContext, slot: number, length: number): number {
    const conns = ctx.conns;
    rewriteInboundMasq(ctx.view, conns.daddr[slot], conns.dport[slot]);
    return ctx.natRoutes.active ? toRealServerByLink(ctx, slot, length) : length;
  },
  transmitOutbound(ctx: TransmitContext, slot: number, length: number): number {
    const conns = ctx.conns;
    rewriteOutboundMasq(ctx.view, conns.vaddr[slot], conns.vport[slot]);
    return ctx.natRoutes.active ? toClientByLink(ctx, slot, length) : length;
  },
  transmitInboundFragment({ view, conns }: TransmitContext, slot: number, length: number) {
    rewriteFragmentAddresses(view, null, conns.daddr[slot]);
    return length;
  },
  transmitOutboundFragment({ view, conns }: TransmitContext, slot: number, length: number) {
    rewriteFragmentAddresses(view, conns.vaddr[slot], null);
    return length;
  },
  transmitIcmpInbound({ view, conns }: TransmitContext, emb: EmbeddedPacket, slot: number) {
    if (!translateIcmpToRealServer(view, emb, conns.daddr[slot], conns.dport[slot])) {
      return ICMP_NOT_HANDLED;
    }
    return view.packetEnd;
  },
  transmitIcmpOutbound({ view, conns }: TransmitContext, emb: EmbeddedPacket, slot: number) {
    if (!translateIcmpFromRealServer(view, emb, conns.vaddr[slot], conns.vport[slot])) {
      return ICMP_NOT_HANDLED;
    }
    return view.packetEnd;
  },
};
