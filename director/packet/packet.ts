// director/packet/: header views over one buffer (vnet, IPv4, TCP, UDP, ICMP) with every field
// offset and protocol number, and the checksums; start here.
//
// One entry for the hot path: binds the vnet header, the IPv4 header and the L4 view of a
// TUN buffer in place (no copy, no allocation) and says in a number whether it is usable.
import { pseudoHeaderSum } from "./checksum.ts";
import { IcmpView } from "./icmp.ts";
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, Ipv4View } from "./ipv4.ts";
import { PacketError } from "./packet-error.ts";
import { TcpView } from "./tcp.ts";
import { UdpView } from "./udp.ts";
import { VNET_HDR_LEN, VnetHeaderView } from "./vnet-header.ts";

export { PacketError, packetErrorName } from "./packet-error.ts";

const EMPTY = new Uint8Array(0);

export class PacketView {
  readonly vnet = new VnetHeaderView();
  readonly ip = new Ipv4View();
  readonly tcp = new TcpView();
  readonly udp = new UdpView();
  readonly icmp = new IcmpView();
  /** The L4 view of ip.protocol is bound (false for non-first fragments and on errors). */
  l4Present = false;
  buf: Uint8Array = EMPTY;
  /** Bytes of the buffer that belong to this read (vnet header included). */
  length = 0;

  /**
   * Binds the views to buf[0, length): vnet header at 0, IPv4 at 10. Returns 0 (OK) or a
   * PacketError code. Only the views that passed are bound; l4Present tells whether the
   * L4 view for ip.protocol is usable. Order of checks: vnet, IPv4 (see Ipv4View.bind),
   * protocol (UNSUPPORTED_PROTOCOL leaves ip bound: a caller may still forward it),
   * non-first fragment (OK, no L4), L4 header (TRUNCATED_L4).
   */
  parse(buf: Uint8Array, length: number): number {
    if (length > buf.length) length = buf.length;
    this.buf = buf;
    this.length = length;
    this.l4Present = false;
    if (!(length >= VNET_HDR_LEN)) return PacketError.TRUNCATED_VNET;
    this.vnet.bind(buf, 0);
    const ip = this.ip;
    const code = ip.bind(buf, VNET_HDR_LEN, length - VNET_HDR_LEN);
    if (code !== PacketError.OK) return code;
    const proto = ip.protocol;
    if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP && proto !== IPPROTO_ICMP) {
      return PacketError.UNSUPPORTED_PROTOCOL;
    }
    const frag = ip.flagsFragOffset;
    // A non-first fragment carries payload only: nothing to bind.
    if ((frag & 0x1fff) !== 0) return PacketError.OK;
    const l4Off = ip.l4Offset;
    const l4Len = ip.l4Length;
    let l4Code: number;
    if (proto === IPPROTO_TCP) l4Code = this.tcp.bind(buf, l4Off, l4Len);
    // A first fragment (MF) holds only the start of the datagram the UDP length describes.
    else if (proto === IPPROTO_UDP) {
      l4Code = this.udp.bind(buf, l4Off, l4Len, (frag & 0x2000) === 0);
    } else l4Code = this.icmp.bind(buf, l4Off, l4Len);
    if (l4Code !== PacketError.OK) return l4Code;
    this.l4Present = true;
    return PacketError.OK;
  }

  /** Bytes from the start of the buffer to the end of the IPv4 packet (what to write back). */
  get packetEnd(): number {
    return VNET_HDR_LEN + this.ip.totalLength;
  }

  /**
   * The full L4 checksum recomputed from scratch (field taken as 0) for a parsed, complete
   * TCP, UDP or ICMP packet; UDP's 0 is returned as 0xffff. For NEEDS_CSUM packets the
   * kernel finishes the sum itself: use this only for packets it does not.
   */
  computeL4Checksum(): number {
    const ip = this.ip;
    const proto = ip.protocol;
    if (proto === IPPROTO_TCP) {
      return this.tcp.computeChecksum(pseudoHeaderSum(ip.src, ip.dst, proto, ip.l4Length));
    }
    if (proto === IPPROTO_UDP) {
      const udp = this.udp;
      return udp.computeChecksum(pseudoHeaderSum(ip.src, ip.dst, proto, udp.udpLength));
    }
    return this.icmp.computeChecksum();
  }
}
