// Test helpers for the reply builders and the ICMP translation tests (not used by the
// director): reference checksum checks that share no code with checksum.ts, and builders.
import { put16, put32, refFold, Rng, u16, words } from "../packet/test-support.ts";

export const CLIENT = 0xc6336402; // 198.51.100.2
export const VIP = 0xcb007105; // 203.0.113.5
export const RS = 0xac100003; // 172.16.0.3
export const ROUTER_PRIVATE = 0xac100009; // 172.16.0.9
export const ROUTER_PUBLIC = 0xc6336401; // 198.51.100.1

/** The ones' complement sum of an IPv4 header at `at` (checksum included) folds to 0xffff. */
export function refIpHeaderValid(buf: Uint8Array, at: number): boolean {
  const hl = (buf[at]! & 15) * 4;
  return refFold(words(buf, at, hl)) === 0xffff;
}

/** Reference check of an L4 checksum (TCP/UDP) with its pseudo-header, for IPv4 at `ip`. */
export function refL4Valid(buf: Uint8Array, ip: number): boolean {
  const hl = (buf[ip]! & 15) * 4;
  const l4len = u16(buf, ip + 2) - hl;
  const w = [...words(buf, ip + 12, 8), buf[ip + 9]!, l4len, ...words(buf, ip + hl, l4len)];
  return refFold(w) === 0xffff;
}

/** Reference check of an ICMP checksum (no pseudo-header), for IPv4 at `ip`. */
export function refIcmpValid(buf: Uint8Array, ip: number): boolean {
  const hl = (buf[ip]! & 15) * 4;
  return refFold(words(buf, ip + hl, u16(buf, ip + 2) - hl)) === 0xffff;
}

/** Reference complemented checksum over [off, off+len) with the field at csumAt as 0. */
export function refChecksum(buf: Uint8Array, off: number, len: number, csumAt: number): number {
  const w = words(buf, off, len);
  w[(csumAt - off) / 2] = 0;
  return ~refFold(w) & 0xffff;
}

export interface IcmpErrorOptions {
  outerSrc: number;
  outerDst: number;
  type: number;
  code: number;
  /** Bytes 4..7 of the ICMP header. */
  rest?: number;
  /** The quoted packet (an IPv4 packet, from its header on), cut to quoteLen bytes. */
  quoted: Uint8Array;
  quoteLen: number;
  outerOptionsLen?: number;
  /** Room left after the packet in the buffer. */
  slack?: number;
}

/** Builds a TUN buffer (vnet header + IPv4 + ICMP error) with reference checksums. */
export function buildIcmpError(rng: Rng, o: IcmpErrorOptions): Uint8Array {
  const ihl = 20 + (o.outerOptionsLen ?? 0);
  const icmpLen = 8 + o.quoteLen;
  const total = ihl + icmpLen;
  const buf = new Uint8Array(10 + total + (o.slack ?? 0));
  rng.bytes(buf, 10, ihl);
  buf[10] = 0x40 | (ihl / 4);
  buf[11] = 0xc0;
  put16(buf, 12, total);
  put16(buf, 16, 0);
  buf[18] = 63;
  buf[19] = 1;
  put32(buf, 22, o.outerSrc);
  put32(buf, 26, o.outerDst);
  put16(buf, 20, refChecksum(buf, 10, ihl, 20));
  const icmp = 10 + ihl;
  buf[icmp] = o.type;
  buf[icmp + 1] = o.code;
  put32(buf, icmp + 4, o.rest ?? 0);
  buf.set(o.quoted.subarray(0, o.quoteLen), icmp + 8);
  put16(buf, icmp + 2, refChecksum(buf, icmp, icmpLen, icmp + 2));
  return buf;
}

/** Copies a built packet into a fresh buffer with `slack` spare bytes at the end. */
export function withSlack(pkt: Uint8Array, slack: number): Uint8Array {
  const buf = new Uint8Array(pkt.length + slack);
  buf.set(pkt);
  return buf;
}

/** Flips random bytes / cuts the length: the fuzz inputs. Returns the length to parse. */
export function mutate(rng: Rng, buf: Uint8Array, length: number): number {
  const flips = 1 + rng.int(4);
  for (let i = 0; i < flips; i++) {
    // Mostly headers, where the checks are.
    const at = rng.int(4) === 0 ? rng.int(length) : rng.int(Math.min(length, 80));
    buf[at] = rng.int(4) === 0 ? rng.u32() & 0xff : buf[at]! ^ (1 << rng.int(8));
  }
  if (rng.int(5) === 0) return rng.int(length + 1);
  return length;
}
