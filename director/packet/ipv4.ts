// Reusable, zero-copy view over an IPv4 header (network byte order), re-bound per packet.
import { foldSum, sumBytes } from "./checksum.ts";
import { NetView } from "./net-view.ts";
import { PacketError } from "./packet-error.ts";

export const IPV4_MIN_HEADER_LEN = 20;
/** The protocol field's values the director knows (IPPROTO_* in <netinet/in.h>). */
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
/** IPv4 in IPv4 (VS/TUN's IPIP) and GRE: the director builds these, never parses them. */
export const IPPROTO_IPIP = 4;
export const IPPROTO_GRE = 47;
/** flags: don't fragment / more fragments (in the 16-bit flags+offset word). */
export const IPV4_DF = 0x4000;
export const IPV4_MF = 0x2000;
export const IPV4_OFFSET_MASK = 0x1fff;

export class Ipv4View extends NetView {
  /**
   * Binds to an IPv4 packet at buf[off] with `available` bytes present and validates it:
   * header complete, version 4, IHL ≥ 5, IHL*4 ≤ total length ≤ available. Returns 0 or a
   * PacketError code (checked in that order). The header checksum is not verified.
   */
  bind(buf: Uint8Array, off: number, available: number): number {
    const code = this.bindHeader(buf, off, available);
    if (code !== PacketError.OK) return code;
    const total = this.totalLength;
    if (total < this.headerLength) return PacketError.TOTAL_LENGTH_TOO_SHORT;
    if (total > available) return PacketError.TOTAL_LENGTH_BEYOND_BUFFER;
    return PacketError.OK;
  }

  /**
   * Binds and checks only the header itself (version, IHL, IHL*4 ≤ available), not the total
   * length: for the inner header an ICMP error carries, which is cut after 8 bytes of L4.
   */
  bindHeader(buf: Uint8Array, off: number, available: number): number {
    this.buf = buf;
    this.off = off;
    if (available < IPV4_MIN_HEADER_LEN || off + IPV4_MIN_HEADER_LEN > buf.length) {
      return PacketError.TRUNCATED_IP;
    }
    const b0 = buf[off]!;
    if (b0 >>> 4 !== 4) return PacketError.BAD_VERSION;
    const hl = (b0 & 0x0f) << 2;
    if (hl < IPV4_MIN_HEADER_LEN) return PacketError.BAD_IHL;
    if (hl > available || off + hl > buf.length) return PacketError.TRUNCATED_IP;
    return PacketError.OK;
  }

  get version(): number {
    return this.buf[this.off]! >>> 4;
  }
  get ihl(): number {
    return this.buf[this.off]! & 0x0f;
  }
  get headerLength(): number {
    return (this.buf[this.off]! & 0x0f) << 2;
  }
  /** The whole TOS byte (DSCP + ECN). */
  get tos(): number {
    return this.buf[this.off + 1]!;
  }
  set tos(v: number) {
    this.buf[this.off + 1] = v;
  }
  get totalLength(): number {
    return this.u16(2);
  }
  set totalLength(v: number) {
    this.setU16(2, v);
  }
  get id(): number {
    return this.u16(4);
  }
  set id(v: number) {
    this.setU16(4, v);
  }
  /** The raw 16-bit flags + fragment offset word. */
  get flagsFragOffset(): number {
    return this.u16(6);
  }
  set flagsFragOffset(v: number) {
    this.setU16(6, v);
  }
  get dontFragment(): boolean {
    return (this.buf[this.off + 6]! & 0x40) !== 0;
  }
  get moreFragments(): boolean {
    return (this.buf[this.off + 6]! & 0x20) !== 0;
  }
  /** Fragment offset in 8-byte units. */
  get fragmentOffset(): number {
    return this.u16(6) & IPV4_OFFSET_MASK;
  }
  /** Any fragment: first (MF set), middle or last (offset > 0). */
  get isFragment(): boolean {
    return (this.u16(6) & (IPV4_MF | IPV4_OFFSET_MASK)) !== 0;
  }
  get ttl(): number {
    return this.buf[this.off + 8]!;
  }
  set ttl(v: number) {
    this.buf[this.off + 8] = v;
  }
  get protocol(): number {
    return this.buf[this.off + 9]!;
  }
  set protocol(v: number) {
    this.buf[this.off + 9] = v;
  }
  get checksum(): number {
    return this.u16(10);
  }
  set checksum(v: number) {
    this.setU16(10, v);
  }
  /** Source address as an unsigned 32-bit number. */
  get src(): number {
    return this.u32(12);
  }
  set src(v: number) {
    this.setU32(12, v);
  }
  /** Source address as a signed 32-bit number (the packet path's form: no boxing). */
  get srcInt(): number {
    return this.i32(12);
  }
  /** Destination address as a signed 32-bit number. */
  get dstInt(): number {
    return this.i32(16);
  }
  /** Destination address as an unsigned 32-bit number. */
  get dst(): number {
    return this.u32(16);
  }
  set dst(v: number) {
    this.setU32(16, v);
  }
  /** Absolute offset of the L4 header in buf. */
  get l4Offset(): number {
    return this.off + ((this.buf[this.off]! & 0x0f) << 2);
  }
  /** L4 bytes according to the total length (header + payload). */
  get l4Length(): number {
    return this.u16(2) - ((this.buf[this.off]! & 0x0f) << 2);
  }

  /**
   * Writes a header without options (version 4, IHL 5) at the view's place, checksum
   * computed in full: for packets the director writes itself.
   */
  writeHeader(
    tos: number,
    totalLength: number,
    id: number,
    flagsFragOffset: number,
    ttl: number,
    proto: number,
    src: number,
    dst: number,
  ): void {
    this.buf[this.off] = 0x40 | (IPV4_MIN_HEADER_LEN >>> 2);
    this.tos = tos;
    this.totalLength = totalLength;
    this.id = id;
    this.flagsFragOffset = flagsFragOffset;
    this.ttl = ttl;
    this.protocol = proto;
    this.checksum = 0;
    this.src = src;
    this.dst = dst;
    this.checksum = this.computeChecksum();
  }

  /** The header checksum recomputed from scratch (as if the field were 0). */
  computeChecksum(): number {
    const sum = sumBytes(this.buf, this.off, this.headerLength, 0) - this.u16(10);
    return ~foldSum(sum) & 0xffff;
  }
  /** True when the header checksum verifies (ones' complement sum is 0xffff). */
  checksumValid(): boolean {
    return foldSum(sumBytes(this.buf, this.off, this.headerLength, 0)) === 0xffff;
  }
}
