// Reusable, zero-copy view over a UDP header, re-bound per packet.
import { foldSum, sumBytes } from "./checksum.ts";
import { PortsView } from "./ports-view.ts";
import { PacketError } from "./packet-error.ts";

export const UDP_HEADER_LEN = 8;
/** Offset of the checksum field inside the UDP header. */
export const UDP_CHECKSUM_OFFSET = 6;

export class UdpView extends PortsView {
  /**
   * Binds to `available` L4 bytes and validates: ≥ 8 bytes, UDP length ≥ 8 and, for a
   * complete datagram (`complete`, i.e. not a first fragment), UDP length ≤ available.
   * Returns 0 or PacketError.TRUNCATED_L4.
   */
  bind(buf: Uint8Array, off: number, available: number, complete = true): number {
    this.attach(buf, off, available);
    if (available < UDP_HEADER_LEN || off + UDP_HEADER_LEN > buf.length) {
      return PacketError.TRUNCATED_L4;
    }
    const ulen = this.u16(4);
    if (ulen < UDP_HEADER_LEN || (complete && ulen > available)) return PacketError.TRUNCATED_L4;
    return PacketError.OK;
  }

  /** The UDP length field (header + payload). */
  get udpLength(): number {
    return this.u16(4);
  }
  set udpLength(v: number) {
    this.setU16(4, v);
  }
  /** 0 means the sender computed no checksum. */
  get checksum(): number {
    return this.u16(6);
  }
  set checksum(v: number) {
    this.setU16(6, v);
  }
  get payloadOffset(): number {
    return this.off + UDP_HEADER_LEN;
  }
  get payloadLength(): number {
    return this.u16(4) - UDP_HEADER_LEN;
  }

  /**
   * Full checksum over the datagram (UDP length bytes, field taken as 0) plus a pseudo-header
   * sum from pseudoHeaderSum(src, dst, 17, udpLength); a result of 0 is returned as 0xffff,
   * as it goes on the wire (0 would mean "no checksum").
   */
  computeChecksum(pseudoSum: number): number {
    const sum = sumBytes(this.buf, this.off, this.u16(4), pseudoSum) - this.u16(6);
    return (~foldSum(sum) & 0xffff) || 0xffff;
  }
}
