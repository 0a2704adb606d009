// Reusable, zero-copy view over an ICMP (v4) header, re-bound per packet.
import { foldSum, sumBytes } from "./checksum.ts";
import { NetView } from "./net-view.ts";
import { PacketError } from "./packet-error.ts";

export const ICMP_HEADER_LEN = 8;

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_SOURCE_QUENCH = 4;
export const ICMP_REDIRECT = 5;
export const ICMP_ECHO = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAMETER_PROBLEM = 12;

/** Codes of ICMP_DEST_UNREACH used by the director. */
export const ICMP_PORT_UNREACH = 3;
export const ICMP_FRAG_NEEDED = 4;

export class IcmpView extends NetView {
  /** ICMP message length (header + data) as the IP header gives it. */
  length = 0;

  /** Binds to `available` bytes; needs ≥ 8. Returns 0 or PacketError.TRUNCATED_L4. */
  bind(buf: Uint8Array, off: number, available: number): number {
    this.buf = buf;
    this.off = off;
    this.length = available;
    if (available < ICMP_HEADER_LEN || off + ICMP_HEADER_LEN > buf.length) {
      return PacketError.TRUNCATED_L4;
    }
    return PacketError.OK;
  }

  get type(): number {
    return this.buf[this.off]!;
  }
  set type(v: number) {
    this.buf[this.off] = v;
  }
  get code(): number {
    return this.buf[this.off + 1]!;
  }
  set code(v: number) {
    this.buf[this.off + 1] = v;
  }
  get checksum(): number {
    return this.u16(2);
  }
  set checksum(v: number) {
    this.setU16(2, v);
  }
  /** Bytes 4..7 as an unsigned 32-bit number (id+sequence, MTU, pointer, gateway...). */
  get restOfHeader(): number {
    return this.u32(4);
  }
  set restOfHeader(v: number) {
    this.setU32(4, v);
  }
  /** Echo identifier (bytes 4..5). */
  get identifier(): number {
    return this.u16(4);
  }
  set identifier(v: number) {
    this.setU16(4, v);
  }
  /** Echo sequence (bytes 6..7). */
  get sequence(): number {
    return this.u16(6);
  }
  set sequence(v: number) {
    this.setU16(6, v);
  }
  /** Next-hop MTU of a "fragmentation needed" message (bytes 6..7). */
  get nextHopMtu(): number {
    return this.u16(6);
  }
  /** An error message, which carries the offending IP header + at least 8 bytes of it. */
  get isError(): boolean {
    const t = this.buf[this.off]!;
    return t === ICMP_DEST_UNREACH || t === ICMP_SOURCE_QUENCH || t === ICMP_REDIRECT ||
      t === ICMP_TIME_EXCEEDED || t === ICMP_PARAMETER_PROBLEM;
  }
  /** Absolute offset of the embedded IP header of an error message. */
  get embeddedOffset(): number {
    return this.off + ICMP_HEADER_LEN;
  }
  /** Bytes of the embedded packet present (bind it with Ipv4View.bindHeader). */
  get embeddedLength(): number {
    return this.length - ICMP_HEADER_LEN;
  }

  /** Full checksum over the message (`length` bytes, field taken as 0); no pseudo-header. */
  computeChecksum(): number {
    const sum = sumBytes(this.buf, this.off, this.length, 0) - this.u16(2);
    return ~foldSum(sum) & 0xffff;
  }
}
