// director/icmp/: ICMP errors about connections, translated as IPVS does.
//
// ICMP errors about VS/NAT connections, as IPVS handles them (net/netfilter/ipvs/
// ip_vs_core.c: ip_vs_in_icmp, ip_vs_out_icmp, handle_response_icmp, ip_vs_nat_icmp).
// An ICMP error quotes the IP header + first bytes (ports) of the packet that caused it.
// The quote shows the packet as it was on the segment where the error arose, i.e. with the
// addresses of the *other* side of the NAT; translating it makes the error meaningful to the
// host that receives it. Two directions, named as in IPVS:
//
// (out) ip_vs_out_icmp → ip_vs_nat_icmp(inout = 1): translateIcmpFromRealServer
//   Arrives from the PRIVATE side, addressed to the client. The quoted packet is one the
//   director forwarded to a real server: quoted src = client:cport, quoted dst = RS:rport.
//   Sent by the real server itself (port/host unreachable) or by a router between director
//   and real server (time exceeded; fragmentation needed when a client packet with DF is too
//   big for the private path: the lab's small-MTU case).
//   Connection: conns.findOutbound(proto, q.src, q.srcPort, q.dst, q.dstPort).
//   Rewrite: outer src → VIP (always, as the kernel: it also hides a private router's
//   address), quoted dst → VIP, quoted dst port → vport.
//
// (in) ip_vs_in_icmp → ip_vs_icmp_xmit → ip_vs_nat_icmp(inout = 0): translateIcmpToRealServer
//   Arrives from the CLIENT side, addressed to the VIP. The quoted packet is a reply the
//   director sent to the client: quoted src = VIP:vport, quoted dst = client:cport (e.g. a
//   router on the client's path says fragmentation needed for a big reply, or the client's
//   host says port unreachable to a UDP reply).
//   Connection: conns.findInbound(proto, q.dst, q.dstPort, q.src, q.srcPort).
//   Rewrite: outer dst → RS, quoted src → RS, quoted src port → rport.
//
// Both: the ICMP checksum is verified first (unless the vnet header says DATA_VALID; a
// partial NEEDS_CSUM sum cannot be verified and is accepted) and a bad one is refused, as
// the kernel drops it. Outer and quoted IPv4 header checksums and the ICMP checksum are then
// recomputed in full (ip_send_check, ip_vs_checksum_complete). The quoted TCP/UDP checksum
// is left alone, as the kernel does: it covers a payload the quote does not carry, nobody
// can verify it. The vnet header is cleared (the message is complete, never GSO). TTL is
// not touched (the engine forwards NAT packets without decrementing it, see masq.ts).
// Only errors the kernel translates: destination unreachable (all codes, incl. 4
// fragmentation needed, whose MTU passes through unchanged), source quench, time exceeded.
// Redirect and parameter problem are not translated (ip_vs_*_icmp returns "not related").
import { internetChecksum } from "../packet/checksum.ts";
import {
  ICMP_DEST_UNREACH,
  ICMP_HEADER_LEN,
  ICMP_SOURCE_QUENCH,
  ICMP_TIME_EXCEEDED,
} from "../packet/icmp.ts";
import { Ipv4View } from "../packet/ipv4.ts";
import { PORTS_LEN, PortsView } from "../packet/ports-view.ts";
import { PacketError, type PacketView } from "../packet/packet.ts";
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from "../packet/ipv4.ts";

/** EmbeddedPacket.result: not an ICMP error IPVS translates (echo, redirect, non-ICMP...). */
export const ICMP_ERROR_NONE = 0;
/** A translatable error about a TCP/UDP packet; the quoted fields are valid. */
export const ICMP_ERROR_RELATED = 1;
/**
 * A translatable error type, but unusable: the ICMP message itself is fragmented (the kernel
 * reassembles first; the engine cannot) or the quoted IP header / ports are truncated or
 * invalid. Drop and count.
 */
export const ICMP_ERROR_MALFORMED = 2;
/** The quoted packet is not TCP/UDP, or is a non-first fragment (no ports to look up). */
export const ICMP_ERROR_UNSUPPORTED = 3;

const EMPTY = new Uint8Array(0);

/** The ICMP types ip_vs_in_icmp / ip_vs_out_icmp translate. */
export function isTranslatedIcmpError(type: number): boolean {
  return type === ICMP_DEST_UNREACH || type === ICMP_SOURCE_QUENCH || type === ICMP_TIME_EXCEEDED;
}

/**
 * The quoted (embedded) packet of an ICMP error, bound in place: reuse one instance per
 * worker, bind it per packet. Fields are the quote's values at bind time (the lookup key);
 * translation does not update them.
 */
export class EmbeddedPacket {
  /** View over the quoted IPv4 header (valid when result is ICMP_ERROR_RELATED). */
  readonly ip = new Ipv4View();
  /** View over the quoted ports (the first bytes of the quoted TCP or UDP header). */
  readonly ports = new PortsView();
  /** ICMP_ERROR_* from the last bind. */
  result = ICMP_ERROR_NONE;
  /** Quoted IP protocol (6 or 17), addresses and ports, host order numbers. */
  proto = 0;
  src = 0;
  dst = 0;
  srcPort = 0;
  dstPort = 0;
  /** ICMP type and code of the outer message. */
  icmpType = 0;
  icmpCode = 0;
  /** Absolute offset in the buffer of the quoted L4 header (its source port). */
  l4Offset = 0;
  buf: Uint8Array = EMPTY;

  /**
   * Binds to the ICMP error in view (a packet parsed with PacketView.parse returning OK).
   * Returns true when it is a translatable error about a TCP/UDP packet (result
   * ICMP_ERROR_RELATED); otherwise result says why not. Never throws.
   */
  bind(view: PacketView): boolean {
    this.result = this.classify(view);
    return this.result === ICMP_ERROR_RELATED;
  }

  private classify(view: PacketView): number {
    const outer = view.ip;
    this.buf = EMPTY;
    if (outer.buf !== view.buf || outer.protocol !== IPPROTO_ICMP) return ICMP_ERROR_NONE;
    // A non-first fragment has no ICMP header to look at: not identifiable.
    if (outer.fragmentOffset !== 0) return ICMP_ERROR_NONE;
    if (!view.l4Present) return ICMP_ERROR_NONE;
    const icmp = view.icmp;
    const type = icmp.type;
    if (!isTranslatedIcmpError(type)) return ICMP_ERROR_NONE;
    this.icmpType = type;
    this.icmpCode = icmp.code;
    // First fragment of an ICMP error: the message is incomplete, its checksum cannot be
    // recomputed. Errors are ≤ 576 bytes by RFC 1812, so this is rare.
    if (outer.moreFragments) return ICMP_ERROR_MALFORMED;
    const q = this.ip;
    const qOff = icmp.off + ICMP_HEADER_LEN;
    const avail = icmp.length - ICMP_HEADER_LEN;
    if (q.bindHeader(view.buf, qOff, avail) !== PacketError.OK) return ICMP_ERROR_MALFORMED;
    const proto = q.protocol;
    if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return ICMP_ERROR_UNSUPPORTED;
    if (q.fragmentOffset !== 0) return ICMP_ERROR_UNSUPPORTED;
    const hl = q.headerLength;
    // Of the quoted L4 header only the two ports are needed (what the kernel reads).
    if (avail < hl + PORTS_LEN) return ICMP_ERROR_MALFORMED;
    const l4 = qOff + hl;
    const b = view.buf;
    this.buf = b;
    this.proto = proto;
    this.src = q.src;
    this.dst = q.dst;
    const ports = this.ports;
    ports.attach(b, l4, avail - hl);
    this.srcPort = ports.srcPort;
    this.dstPort = ports.dstPort;
    this.l4Offset = l4;
    return ICMP_ERROR_RELATED;
  }
}

/** emb was bound to this view's buffer and the ICMP checksum is acceptable. */
function usable(view: PacketView, emb: EmbeddedPacket): boolean {
  if (emb.result !== ICMP_ERROR_RELATED || emb.buf !== view.buf || emb.ip.buf !== view.buf) {
    return false;
  }
  const vnet = view.vnet;
  if (vnet.dataValid || vnet.needsCsum) return true;
  const icmp = view.icmp;
  return internetChecksum(view.buf, icmp.off, icmp.length) === 0;
}

/** Recomputes the three checksums a translation invalidates and resets the vnet header. */
function finish(view: PacketView, emb: EmbeddedPacket): void {
  const q = emb.ip;
  q.checksum = q.computeChecksum();
  const ip = view.ip;
  ip.checksum = ip.computeChecksum();
  const icmp = view.icmp;
  icmp.checksum = icmp.computeChecksum();
  view.vnet.clear();
}

/**
 * (out) direction, see the top of this file: an error from the private side about a packet
 * the director forwarded to a real server (quoted dst = RS:rport), going to the client.
 * Rewrites outer src → vaddr, quoted dst → vaddr, quoted dst port → vport; fixes checksums.
 * Returns false (packet untouched: drop it) if emb is not bound to view as a related error
 * or the ICMP checksum is bad. The packet keeps its length (view.packetEnd).
 */
export function translateIcmpFromRealServer(
  view: PacketView,
  emb: EmbeddedPacket,
  vaddr: number,
  vport: number,
): boolean {
  if (!usable(view, emb)) return false;
  view.ip.src = vaddr;
  emb.ip.dst = vaddr;
  emb.ports.dstPort = vport;
  finish(view, emb);
  return true;
}

/**
 * (in) direction, see the top of this file: an error from the client side about a reply the
 * director sent (quoted src = VIP:vport), addressed to the VIP. Rewrites outer dst → daddr,
 * quoted src → daddr, quoted src port → dport; fixes checksums. Returns false (packet
 * untouched: drop it) if emb is not bound to view as a related error or the ICMP checksum
 * is bad.
 */
export function translateIcmpToRealServer(
  view: PacketView,
  emb: EmbeddedPacket,
  daddr: number,
  dport: number,
): boolean {
  if (!usable(view, emb)) return false;
  view.ip.dst = daddr;
  emb.ip.src = daddr;
  emb.ports.srcPort = dport;
  finish(view, emb);
  return true;
}
