// ICMP errors about the director's own VS/TUN packets, as IPVS handles them (ip_vs_core.c,
// ip_vs_in_icmp with ipvs_udp_decap and ipvs_gre_decap). A router between the director and
// a real server that cannot forward a tunnel packet tells the packet's source, the director
// (they arrive on the raw ICMP socket, director/net/icmp-socket.ts). The quote is the tunnel
// packet: outer IPv4 from a director address to a tunnel server, the tunnel's header (none
// for IPIP; UDP + GUE to the server's GUE port; GRE with at most the C bit, protocol IPv4),
// then the start of the client's packet, which names the connection (client → VIP).
//   - No such connection (or not that server's tunnel): ignored (counted).
//   - Fragmentation needed: the server's path MTU is lowered to the ICMP's MTU (the
//     kernel's ipv4_update_pmtu rules, director/net/tunnel-table.ts), so later too-big DF
//     packets get the director's own fragmentation needed. A client packet without DF stops
//     there. With DF, the client is told the MTU left inside the tunnel: the path MTU less
//     the outer IPv4 header and the tunnel header, if that leaves more than 68.
//   - Every error (the MTU one too): the client gets an ICMP of the same type and code about
//     its own packet (the quote's inner part), from the VIP, as IPVS's icmp_send does for an
//     error delivered locally. The arriving ICMP goes no further.
// A quote of a later fragment of a tunnel packet is ignored, as IPVS does; malformed ones are
// dropped and counted. Works in one reusable buffer; nothing is allocated per packet.
import { CONN_F_TEMPLATE, type ConnTable, NO_SLOT } from "../engine/conn-table.ts";
import { type DropCounters, DropReason } from "../engine/drop-counters.ts";
import type { TunnelTable } from "../net/tunnel-table.ts";
import { internetChecksum } from "../packet/checksum.ts";
import { ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, ICMP_HEADER_LEN } from "../packet/icmp.ts";
import {
  IPPROTO_GRE,
  IPPROTO_ICMP,
  IPPROTO_IPIP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPV4_MIN_HEADER_LEN,
  Ipv4View,
} from "../packet/ipv4.ts";
import { PacketError, PacketView } from "../packet/packet.ts";
import { UDP_HEADER_LEN } from "../packet/udp.ts";
import { VNET_HDR_LEN } from "../packet/vnet-header.ts";
import { giveBackForwardingTtl } from "../forwarding/kernel-ttl.ts";
import { GRE_CSUM_LEN, GRE_HEADER_LEN, GUE_HEADER_LEN } from "../forwarding/tunnel-encap.ts";
import { writeIcmpErrorAbout } from "../replies/icmp-unreachable.ts";
import { isTranslatedIcmpError } from "./icmp-translate.ts";
import type { TunnelOptions } from "../service/tunnel-options.ts";
import { forwardingMethodIndex } from "../forwarding/index.ts";

const TUNNEL_METHOD = forwardingMethodIndex("tunnel");

/** The smallest IPv4 MTU (RFC 791): IPVS tells the client the reduced MTU only above it. */
const IPV4_MIN_MTU = 68;
/** The quoted client packet: its IPv4 header and the 8 bytes holding its ports. */
const QUOTED_L4_LEN = 8;
const GRE_FLAG_CSUM = 0x8000;
const GRE_PROTO_IPV4 = 0x0800;
/** What the tunnel header of a quote decoded as (tunnelKind). */
const KIND_IPIP = 0;
const KIND_GUE = 1;
const KIND_GRE = 2;

/** Counters for lvs-stats. */
export interface TunnelIcmpCounters {
  /** ICMP errors whose quote is one of the director's tunnel packets. */
  received: number;
  /** Errors sent on to the client about its own packet. */
  translated: number;
  /** Fragmentation-needed messages that taught a server's path MTU. */
  pmtuUpdates: number;
}

const u16 = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;

export class TunnelIcmp {
  readonly counters: TunnelIcmpCounters = { received: 0, translated: 0, pmtuUpdates: 0 };
  private readonly view = new PacketView();
  /** The quoted tunnel packet's outer header and the client packet inside it. */
  private readonly outer = new Ipv4View();
  private readonly inner = new Ipv4View();
  /** Set by decap(): the tunnel header's length and kind, and the GUE port. */
  private tunnelLen = 0;
  private tunnelKind = 0;
  private guePort = 0;

  constructor(
    private readonly conns: ConnTable,
    private readonly tunnels: TunnelTable,
    private readonly drops: DropCounters,
  ) {}

  /**
   * One ICMP as the raw socket read it, at buf[VNET_HDR_LEN, length) (the vnet header's room
   * before it is cleared here). Returns the bytes of the ICMP for the client now at buf[0]
   * (vnet header first: write it to the TUN device), or 0 when nothing is sent.
   */
  handle(buf: Uint8Array, length: number, nowMs: number): number {
    buf.fill(0, 0, VNET_HDR_LEN);
    const view = this.view;
    if (view.parse(buf, length) !== PacketError.OK) return 0;
    if (view.ip.protocol !== IPPROTO_ICMP || !view.l4Present) return 0;
    const icmp = view.icmp;
    const type = icmp.type;
    if (!isTranslatedIcmpError(type)) return 0;
    // The quoted tunnel packet: from a director address to a tunnel server, or not ours.
    const q = this.outer;
    const qOff = icmp.off + ICMP_HEADER_LEN;
    const avail = icmp.length - ICMP_HEADER_LEN;
    if (q.bindHeader(buf, qOff, avail) !== PacketError.OK) return 0;
    const hop = this.tunnels.hopOfPacket(q.src, q.dst);
    if (hop < 0) return 0;
    const proto = q.protocol;
    if (proto !== IPPROTO_IPIP && proto !== IPPROTO_UDP && proto !== IPPROTO_GRE) return 0;
    this.counters.received++;
    const drops = this.drops;
    if (internetChecksum(buf, icmp.off, icmp.length) !== 0) {
      drops.count(DropReason.TUNNEL_ICMP_MALFORMED);
      return 0;
    }
    if (q.fragmentOffset !== 0) {
      drops.count(DropReason.TUNNEL_ICMP_FRAGMENT);
      return 0;
    }
    const tunnelOff = qOff + q.headerLength;
    if (!this.decap(buf, proto, tunnelOff, qOff + avail)) {
      drops.count(DropReason.TUNNEL_ICMP_MALFORMED);
      return 0;
    }
    // The client's packet: a TCP or UDP header's ports at least, a first fragment.
    const innerOff = tunnelOff + this.tunnelLen;
    const innerAvail = qOff + avail - innerOff;
    const c = this.inner;
    if (c.bindHeader(buf, innerOff, innerAvail) !== PacketError.OK) {
      drops.count(DropReason.TUNNEL_ICMP_MALFORMED);
      return 0;
    }
    const cproto = c.protocol;
    const chl = c.headerLength;
    if (
      (cproto !== IPPROTO_TCP && cproto !== IPPROTO_UDP) || innerAvail < chl + QUOTED_L4_LEN
    ) {
      drops.count(DropReason.TUNNEL_ICMP_MALFORMED);
      return 0;
    }
    if (c.fragmentOffset !== 0) {
      drops.count(DropReason.TUNNEL_ICMP_FRAGMENT);
      return 0;
    }
    const sport = u16(buf, innerOff + chl);
    const dport = u16(buf, innerOff + chl + 2);
    const conns = this.conns;
    const slot = conns.findInbound(cproto, c.src, sport, c.dst, dport);
    if (
      slot === NO_SLOT || (conns.flags[slot]! & CONN_F_TEMPLATE) !== 0 ||
      conns.method[slot] !== TUNNEL_METHOD || !this.sameTunnel(slot, q.dst)
    ) {
      drops.count(DropReason.TUNNEL_ICMP_NO_CONNECTION);
      return 0;
    }
    // Read before the move below overwrites the arriving ICMP.
    const code = icmp.code;
    let info = icmp.restOfHeader;
    if (type === ICMP_DEST_UNREACH && code === ICMP_FRAG_NEEDED) {
      this.counters.pmtuUpdates++;
      this.tunnels.learnPmtu(hop, icmp.nextHopMtu, nowMs);
      // A client packet the path may fragment needs nothing from its sender (IPVS).
      if (!c.dontFragment) return 0;
      const headers = IPV4_MIN_HEADER_LEN + this.tunnelLen;
      let mtu = this.tunnels.mtuOf(hop);
      if (mtu > IPV4_MIN_MTU + headers) mtu -= headers;
      info = mtu;
    }
    // The client's packet to the front, then the one builder of the director's ICMP errors.
    buf.copyWithin(VNET_HDR_LEN, innerOff, innerOff + innerAvail);
    c.bindHeader(buf, VNET_HDR_LEN, innerAvail);
    const n = writeIcmpErrorAbout(c, innerAvail, type, code, c.dst, info);
    if (n === 0) {
      drops.count(DropReason.TUNNEL_ICMP_MALFORMED);
      return 0;
    }
    // It leaves through the TUN device as the engine's answers do: the TTL back, once.
    view.parse(buf, n);
    giveBackForwardingTtl(view);
    this.counters.translated++;
    return n;
  }

  /** Reads the tunnel header at buf[at, end) of a quote's `proto`; false when malformed. */
  private decap(buf: Uint8Array, proto: number, at: number, end: number): boolean {
    if (proto === IPPROTO_IPIP) {
      this.tunnelKind = KIND_IPIP;
      this.tunnelLen = 0;
      return true;
    }
    if (proto === IPPROTO_UDP) {
      // ipvs_udp_decap: GUE version 0, no control message, inner protocol IPIP.
      if (end - at < UDP_HEADER_LEN + GUE_HEADER_LEN) return false;
      const gue = at + UDP_HEADER_LEN;
      const first = buf[gue]!;
      if ((first & 0xe0) !== 0 || buf[gue + 1] !== IPPROTO_IPIP) return false;
      this.tunnelKind = KIND_GUE;
      this.guePort = u16(buf, at + 2);
      this.tunnelLen = UDP_HEADER_LEN + GUE_HEADER_LEN + ((first & 0x1f) << 2);
      return true;
    }
    // ipvs_gre_decap: version 0, no flag but C, protocol IPv4.
    if (end - at < GRE_HEADER_LEN) return false;
    const flags = u16(buf, at);
    if ((flags & ~GRE_FLAG_CSUM) !== 0 || u16(buf, at + 2) !== GRE_PROTO_IPV4) return false;
    this.tunnelKind = KIND_GRE;
    this.tunnelLen = GRE_HEADER_LEN + (flags !== 0 ? GRE_CSUM_LEN : 0);
    return true;
  }

  /** The connection's server is the quote's destination, with the tunnel the quote shows. */
  private sameTunnel(slot: number, server: number): boolean {
    const dest = this.conns.dest[slot];
    if (!dest || dest.addr >>> 0 !== server >>> 0) return false;
    return kindOf(dest.tunnel) === this.tunnelKind &&
      (this.tunnelKind !== KIND_GUE || dest.tunnel.port === this.guePort);
  }
}

function kindOf(t: Readonly<TunnelOptions>): number {
  return t.type === "ipip" ? KIND_IPIP : t.type === "gue" ? KIND_GUE : KIND_GRE;
}
