// Test helpers for the packet folder (not used by the director): a seeded PRNG so failures
// reproduce, a packet builder, and a deliberately naive reference checksum that shares no
// code with checksum.ts.

/** mulberry32: small, fast, seeded 32-bit PRNG. */
export class Rng {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }
  u32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 0x100000000) * n);
  }
  bytes(buf: Uint8Array, off: number, len: number): void {
    for (let i = 0; i < len; i++) buf[off + i] = this.u32() & 0xff;
  }
}

/** Reference ones' complement sum of words given as numbers, folded after every add. */
export function refFold(words: number[]): number {
  let s = 0;
  for (const w of words) {
    s += w & 0xffff;
    if (s > 0xffff) s -= 0xffff;
  }
  return s;
}

/** Big-endian 16-bit words of bytes [off, off+len), an odd last byte padded with 0. */
export function words(buf: Uint8Array, off: number, len: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < len; i += 2) {
    out.push(buf[off + i]! * 256 + (i + 1 < len ? buf[off + i + 1]! : 0));
  }
  return out;
}

export function u16(buf: Uint8Array, at: number): number {
  return buf[at]! * 256 + buf[at + 1]!;
}
export function put16(buf: Uint8Array, at: number, v: number): void {
  buf[at] = (v >> 8) & 0xff;
  buf[at + 1] = v & 0xff;
}
export function put32(buf: Uint8Array, at: number, v: number): void {
  put16(buf, at, Math.floor(v / 0x10000) & 0xffff);
  put16(buf, at + 2, v & 0xffff);
}
export function get32(buf: Uint8Array, at: number): number {
  return u16(buf, at) * 0x10000 + u16(buf, at + 2);
}

export const VNET = 10;
export const IP = 10; // offset of the IPv4 header in a TUN buffer

/** Reference IPv4 header checksum of the packet at IP (field taken as 0). */
export function refIpChecksum(buf: Uint8Array): number {
  const hl = (buf[IP]! & 15) * 4;
  const w = words(buf, IP, hl);
  w[5] = 0;
  return ~refFold(w) & 0xffff;
}

/** Reference L4 sum (pseudo-header + segment with the checksum field at csumAt taken as 0). */
export function refL4Sum(buf: Uint8Array, csumAt: number, l4len: number): number {
  const hl = (buf[IP]! & 15) * 4;
  const l4 = IP + hl;
  const w = words(buf, l4, l4len);
  w[(csumAt - l4) / 2] = 0;
  const proto = buf[IP + 9]!;
  return refFold([...words(buf, IP + 12, 8), proto, l4len, ...w]);
}

export interface BuildOptions {
  proto: 6 | 17 | 1;
  payloadLen: number;
  ipOptionsLen?: number; // multiple of 4, ≤ 40
  tcpOptionsLen?: number; // multiple of 4, ≤ 40
  src?: number;
  dst?: number;
  sport?: number;
  dport?: number;
  fragWord?: number;
  /** Leave the L4 checksum field as the folded pseudo-header sum (vnet NEEDS_CSUM). */
  partial?: boolean;
}

/**
 * Builds a TUN buffer (vnet header + IPv4 + L4 + random payload) with correct checksums
 * (reference implementation). Returns the buffer, exactly as long as the packet.
 */
export function buildPacket(rng: Rng, o: BuildOptions): Uint8Array {
  const ipHl = 20 + (o.ipOptionsLen ?? 0);
  const l4Hl = o.proto === 6 ? 20 + (o.tcpOptionsLen ?? 0) : 8;
  const l4len = l4Hl + o.payloadLen;
  const total = ipHl + l4len;
  const buf = new Uint8Array(VNET + total);
  rng.bytes(buf, IP, total);
  buf[IP] = 0x40 | (ipHl / 4);
  put16(buf, IP + 2, total);
  put16(buf, IP + 6, o.fragWord ?? 0x4000);
  buf[IP + 9] = o.proto;
  if (o.src !== undefined) put32(buf, IP + 12, o.src);
  if (o.dst !== undefined) put32(buf, IP + 16, o.dst);
  put16(buf, IP + 10, refIpChecksum(buf));
  const l4 = IP + ipHl;
  let csumAt: number;
  if (o.proto === 6) {
    buf[l4 + 12] = (l4Hl / 4) << 4;
    csumAt = l4 + 16;
  } else if (o.proto === 17) {
    put16(buf, l4 + 4, l4len);
    csumAt = l4 + 6;
  } else {
    csumAt = l4 + 2;
  }
  if (o.proto !== 1) {
    if (o.sport !== undefined) put16(buf, l4, o.sport);
    if (o.dport !== undefined) put16(buf, l4 + 2, o.dport);
  }
  if (o.partial) {
    buf[0] = 1; // NEEDS_CSUM
    put16(buf, 6, ipHl);
    put16(buf, 8, csumAt - l4);
    const pseudo = refFold([...words(buf, IP + 12, 8), o.proto, l4len]);
    put16(buf, csumAt, pseudo);
  } else if (o.proto === 1) {
    const w = words(buf, l4, l4len);
    w[1] = 0;
    put16(buf, csumAt, ~refFold(w) & 0xffff);
  } else {
    let c = ~refL4Sum(buf, csumAt, l4len) & 0xffff;
    if (o.proto === 17 && c === 0) c = 0xffff;
    put16(buf, csumAt, c);
  }
  return buf;
}
