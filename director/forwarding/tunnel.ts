// VS/TUN ("Tunnel", ipvsadm -i; IPVS's ip_vs_tunnel_xmit): the client's packet inside a new
// IPv4 packet from the director to the real server (IPIP, or GUE or GRE as the server's
// --tun-type says), sent through a raw socket that the kernel routes (director/net/
// tunnel-table.ts). The real server unwraps it and answers the client directly, so the
// director sees only the client's direction (CONN_F_NOOUTPUT). The inner TTL is as the
// kernel left it forwarding the packet into the TUN device (one less, as IPVS makes it),
// and the outer header takes it, with the TOS and DF. A super-packet is cut into segments
// first (./inner-packet.ts), and every inner checksum is completed.
import { CONN_F_NOOUTPUT, type ConnTable } from "../engine/conn-table.ts";
import { DropReason } from "../engine/drop-counters.ts";
import { NO_NEXT_HOP } from "../service/types.ts";
import { ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED } from "../packet/icmp.ts";
import { VIRTIO_NET_HDR_GSO_TCPV4, VNET_HDR_LEN } from "../packet/vnet-header.ts";
import { writeIcmpError } from "../replies/icmp-unreachable.ts";
import type { EmbeddedPacket } from "../icmp/icmp-translate.ts";
import { type ForwardingMethod, passOnUnchanged, type TransmitContext } from "./method.ts";
import { type OuterAddresses, tunnelOverhead, writeTunnelHeaders } from "./tunnel-encap.ts";
import { copySegment, copyWholePacket, segmentCount, type SuperPacket } from "./inner-packet.ts";

/** IPVS drops rather than send a packet whose path MTU is below IPv4's minimum. */
const MIN_MTU = 68;

const outer: OuterAddresses = { src: 0, dst: 0, flowHash: 0 };
const shape: SuperPacket = { ipHl: 0, tcpHl: 0, payloadLen: 0, mss: 0 };

/** A hash of the connection's client side: GUE's source port (udp_flow_src_port's role). */
function flowHash(conns: ConnTable, slot: number): number {
  let h = Math.imul(conns.caddr[slot]! ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (conns.cport[slot]! << 16) ^ conns.vport[slot]!, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Encapsulates the packet for the connection's real server and queues it (or its segments)
 * on the raw socket. Returns 0, or the length of the ICMP fragmentation-needed written over
 * the packet for its source when it is too big for the path with the tunnel's headers
 * (IPVS's ensure_mtu_is_adequate with the reduced MTU; a super-packet counts by the segments
 * it would be cut into).
 */
function transmitThroughTunnel(ctx: TransmitContext, slot: number, length: number): number {
  const { view, conns, tunnels, drops } = ctx;
  const dest = conns.dest[slot]!;
  let hop = dest.nextHop;
  if (hop === NO_NEXT_HOP) {
    hop = tunnels.nextHopOf(dest.addr);
    if (hop === NO_NEXT_HOP) {
      drops.count(DropReason.TUNNEL_PENDING);
      return 0;
    }
    dest.nextHop = hop;
  }
  const source = tunnels.sourceOf(hop);
  if (source === 0) {
    drops.count(DropReason.TUNNEL_NO_ROUTE);
    return 0;
  }
  const tunnel = dest.tunnel;
  const overhead = tunnelOverhead(tunnel);
  const mtu = tunnels.mtuOf(hop) - overhead;
  const ip = view.ip;
  const vnet = view.vnet;
  const gso = vnet.isGso;
  if (gso && (vnet.gsoType & 0x7f) !== VIRTIO_NET_HDR_GSO_TCPV4) {
    drops.count(DropReason.GSO_UNSUPPORTED);
    return 0;
  }
  const largest = gso ? ip.headerLength + view.tcp.headerLength + vnet.gsoSize : ip.totalLength;
  if (largest > mtu || mtu < MIN_MTU) {
    drops.count(DropReason.FRAME_TOO_BIG);
    if (!ip.dontFragment || mtu < MIN_MTU) return 0;
    return writeIcmpError(view, view.buf, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, ip.dstInt, mtu);
  }
  outer.src = source;
  outer.dst = dest.addr;
  outer.flowHash = flowHash(conns, slot);
  const block = tunnels.block;
  const inner = tunnels.loadScratch(view.buf, length) + VNET_HDR_LEN;
  if (!gso) {
    const at = tunnels.nextSlot();
    const n = copyWholePacket(block, inner, ip.totalLength, at + overhead, vnet.needsCsum);
    tunnels.commit(writeTunnelHeaders(block, at, n, tunnel, outer), dest.addr);
    return 0;
  }
  shape.ipHl = ip.headerLength;
  shape.tcpHl = view.tcp.headerLength;
  shape.payloadLen = ip.totalLength - shape.ipHl - shape.tcpHl;
  shape.mss = vnet.gsoSize;
  const segments = segmentCount(shape);
  for (let k = 0; k < segments; k++) {
    const at = tunnels.nextSlot();
    const n = copySegment(block, inner, shape, k, at + overhead);
    tunnels.commit(writeTunnelHeaders(block, at, n, tunnel, outer), dest.addr);
  }
  return 0;
}

/**
 * ip_vs_in_icmp for a TUN connection: an error from the client's side about a reply the
 * real server sent goes to that server through the tunnel, unchanged.
 */
function icmpThroughTunnel(ctx: TransmitContext, _emb: EmbeddedPacket, slot: number): number {
  return transmitThroughTunnel(ctx, slot, ctx.view.packetEnd);
}

export const TUNNEL: ForwardingMethod = {
  name: "tunnel",
  initialConnFlags: CONN_F_NOOUTPUT,
  runsAppHelpers: false,
  transmitInbound: transmitThroughTunnel,
  transmitOutbound: passOnUnchanged,
  transmitInboundFragment: transmitThroughTunnel,
  transmitOutboundFragment: passOnUnchanged,
  transmitIcmpInbound: icmpThroughTunnel,
  transmitIcmpOutbound: (ctx, _emb, _slot) => passOnUnchanged(ctx, 0, ctx.view.packetEnd),
};
