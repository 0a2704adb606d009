// VS/NAT ("Masq"): the director rewrites the destination of client packets to the chosen
// real server and the source of the replies back to the virtual service, adjusting the IP
// and L4 checksums incrementally (RFC 1624). With NEEDS_CSUM the L4 field holds only the
// pseudo-header sum, so only address changes touch it; ports are summed later by the kernel.
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
 * The method table's entry (ip_vs_nat_xmit and ip_vs_icmp_xmit): both directions pass the
 * director, each rewritten in place and written back with its length unchanged.
 */
export const MASQ: ForwardingMethod = {
  name: "masq",
  initialConnFlags: 0,
  runsAppHelpers: true,
  transmitInbound({ view, conns }: TransmitContext, slot: number, length: number): number {
    rewriteInboundMasq(view, conns.daddr[slot], conns.dport[slot]);
    return length;
  },
  transmitOutbound({ view, conns }: TransmitContext, slot: number, length: number): number {
    rewriteOutboundMasq(view, conns.vaddr[slot], conns.vport[slot]);
    return length;
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
