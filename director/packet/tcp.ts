// Reusable, zero-copy view over a TCP header, re-bound per packet.
import { foldSum, sumBytes } from "./checksum.ts";
import { PortsView } from "./ports-view.ts";
import { PacketError } from "./packet-error.ts";

export const TCP_MIN_HEADER_LEN = 20;

/** Bits of the flags byte (byte 13). */
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

/** Offsets of fields inside the TCP header. */
export const TCP_SEQ_OFFSET = 4;
export const TCP_ACK_NUMBER_OFFSET = 8;
export const TCP_CHECKSUM_OFFSET = 16;

/** Option kinds (RFC 793, RFC 2018); an option is kind, length, then length - 2 bytes. */
export const TCPOPT_EOL = 0;
export const TCPOPT_NOP = 1;
export const TCPOPT_SACK = 5;
/** Bytes before an option's data (kind, length); a SACK block edge is a 32-bit number. */
export const TCPOPT_HEADER_LEN = 2;
export const TCP_SACK_EDGE_LEN = 4;

export class TcpView extends PortsView {
  /**
   * Binds to a segment of `available` bytes and validates: ≥ 20 bytes, data offset ≥ 5,
   * data offset * 4 ≤ available. Returns 0 or PacketError.TRUNCATED_L4.
   */
  bind(buf: Uint8Array, off: number, available: number): number {
    this.attach(buf, off, available);
    if (available < TCP_MIN_HEADER_LEN || off + TCP_MIN_HEADER_LEN > buf.length) {
      return PacketError.TRUNCATED_L4;
    }
    const hl = (buf[off + 12]! >>> 4) << 2;
    if (hl < TCP_MIN_HEADER_LEN || hl > available) return PacketError.TRUNCATED_L4;
    return PacketError.OK;
  }

  get seq(): number {
    return this.u32(TCP_SEQ_OFFSET);
  }
  set seq(v: number) {
    this.setU32(TCP_SEQ_OFFSET, v);
  }
  get ack(): number {
    return this.u32(TCP_ACK_NUMBER_OFFSET);
  }
  set ack(v: number) {
    this.setU32(TCP_ACK_NUMBER_OFFSET, v);
  }
  /** Data offset in 32-bit words (setting it clears the reserved bits beside it). */
  get dataOffset(): number {
    return this.buf[this.off + 12]! >>> 4;
  }
  set dataOffset(words: number) {
    this.buf[this.off + 12] = words << 4;
  }
  get headerLength(): number {
    return (this.buf[this.off + 12]! >>> 4) << 2;
  }
  /** The flags byte: TCP_FIN | TCP_SYN | ... (the NS bit is not included). */
  get flags(): number {
    return this.buf[this.off + 13]!;
  }
  set flags(v: number) {
    this.buf[this.off + 13] = v;
  }
  get window(): number {
    return this.u16(14);
  }
  set window(v: number) {
    this.setU16(14, v);
  }
  get checksum(): number {
    return this.u16(TCP_CHECKSUM_OFFSET);
  }
  set checksum(v: number) {
    this.setU16(TCP_CHECKSUM_OFFSET, v);
  }
  get urgentPointer(): number {
    return this.u16(18);
  }
  set urgentPointer(v: number) {
    this.setU16(18, v);
  }
  /** Absolute offset of the options in buf (for SACK rewriting). */
  get optionsOffset(): number {
    return this.off + TCP_MIN_HEADER_LEN;
  }
  /** Bytes of options (0..40). */
  get optionsLength(): number {
    return ((this.buf[this.off + 12]! >>> 4) << 2) - TCP_MIN_HEADER_LEN;
  }
  /** Absolute offset of the payload in buf. */
  get payloadOffset(): number {
    return this.off + ((this.buf[this.off + 12]! >>> 4) << 2);
  }
  get payloadLength(): number {
    return this.length - ((this.buf[this.off + 12]! >>> 4) << 2);
  }

  /**
   * Full checksum over the segment (`length` bytes, field taken as 0) plus a pseudo-header
   * sum from pseudoHeaderSum(src, dst, 6, length).
   */
  computeChecksum(pseudoSum: number): number {
    const sum = sumBytes(this.buf, this.off, this.length, pseudoSum) - this.u16(16);
    return ~foldSum(sum) & 0xffff;
  }
}
