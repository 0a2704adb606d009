// The virtio_net_hdr that a TUN device opened with IFF_VNET_HDR puts before each packet:
// 10 bytes, little-endian (the host's order on every platform Node runs on here).

export const VNET_HDR_LEN = 10;

/** flags: the L4 checksum field holds a partial (pseudo-header) sum to finish. */
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
/** flags: the checksum was already verified. */
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;

export const VIRTIO_NET_HDR_GSO_NONE = 0;
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
export const VIRTIO_NET_HDR_GSO_UDP = 3;
export const VIRTIO_NET_HDR_GSO_TCPV6 = 4;
export const VIRTIO_NET_HDR_GSO_ECN = 0x80;

const EMPTY = new Uint8Array(0);

/** Reusable view over a vnet header; bind it per packet, no copy. */
export class VnetHeaderView {
  buf: Uint8Array = EMPTY;
  off = 0;

  /** Binds to buf[off, off+10); the caller checks that 10 bytes are there. */
  bind(buf: Uint8Array, off: number): void {
    this.buf = buf;
    this.off = off;
  }

  get flags(): number {
    return this.buf[this.off]!;
  }
  set flags(v: number) {
    this.buf[this.off] = v;
  }
  get gsoType(): number {
    return this.buf[this.off + 1]!;
  }
  set gsoType(v: number) {
    this.buf[this.off + 1] = v;
  }
  get hdrLen(): number {
    return this.u16(2);
  }
  set hdrLen(v: number) {
    this.setU16(2, v);
  }
  get gsoSize(): number {
    return this.u16(4);
  }
  set gsoSize(v: number) {
    this.setU16(4, v);
  }
  get csumStart(): number {
    return this.u16(6);
  }
  set csumStart(v: number) {
    this.setU16(6, v);
  }
  get csumOffset(): number {
    return this.u16(8);
  }
  set csumOffset(v: number) {
    this.setU16(8, v);
  }
  get needsCsum(): boolean {
    return (this.buf[this.off]! & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0;
  }
  get dataValid(): boolean {
    return (this.buf[this.off]! & VIRTIO_NET_HDR_F_DATA_VALID) !== 0;
  }
  /** A GSO super-packet (gso_type other than NONE, ECN bit ignored). */
  get isGso(): boolean {
    return isGsoPacket(this.buf, this.off);
  }

  /** Writes an all-zero header (no offload) at the bound position. */
  clear(): void {
    this.buf.fill(0, this.off, this.off + VNET_HDR_LEN);
  }

  private u16(at: number): number {
    const i = this.off + at;
    return this.buf[i]! | (this.buf[i + 1]! << 8);
  }
  private setU16(at: number, v: number): void {
    const i = this.off + at;
    this.buf[i] = v & 0xff;
    this.buf[i + 1] = (v >>> 8) & 0xff;
  }
}

/** Whether the vnet header at buf[off] announces a GSO super-packet (ECN bit ignored). */
export function isGsoPacket(buf: Uint8Array, off = 0): boolean {
  return (buf[off + 1]! & ~VIRTIO_NET_HDR_GSO_ECN) !== VIRTIO_NET_HDR_GSO_NONE;
}
