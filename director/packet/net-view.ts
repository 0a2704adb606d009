// Base of the header views: a (buffer, offset) pair with big-endian field access by byte
// math (no DataView, no allocation). Views are re-bound per packet over the same buffer.

const EMPTY = new Uint8Array(0);

/** Big-endian 16-bit number at buf[at] (for fields at any offset, e.g. in TCP options). */
export function readU16(buf: Uint8Array, at: number): number {
  return (buf[at]! << 8) | buf[at + 1]!;
}

/** Big-endian unsigned 32-bit number at buf[at]. */
export function readU32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

/** Writes a big-endian 32-bit number at buf[at]. */
export function writeU32(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value >>> 24;
  buf[at + 1] = value >>> 16;
  buf[at + 2] = value >>> 8;
  buf[at + 3] = value;
}

export class NetView {
  buf: Uint8Array = EMPTY;
  off = 0;

  /** Big-endian 16-bit field at off+at. */
  protected u16(at: number): number {
    const i = this.off + at;
    return (this.buf[i]! << 8) | this.buf[i + 1]!;
  }
  protected setU16(at: number, v: number): void {
    const i = this.off + at;
    this.buf[i] = v >>> 8;
    this.buf[i + 1] = v;
  }
  /** Big-endian unsigned 32-bit field at off+at. */
  protected u32(at: number): number {
    const b = this.buf;
    const i = this.off + at;
    return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
  }
  /**
   * The same field as a signed 32-bit number: always a V8 small integer, so the packet path
   * can pass addresses around without boxing them in heap numbers (addresses above
   * 127.255.255.255 do not fit a small integer unsigned).
   */
  protected i32(at: number): number {
    const b = this.buf;
    const i = this.off + at;
    return (b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!;
  }
  protected setU32(at: number, v: number): void {
    const b = this.buf;
    const i = this.off + at;
    b[i] = v >>> 24;
    b[i + 1] = v >>> 16;
    b[i + 2] = v >>> 8;
    b[i + 3] = v;
  }
}
