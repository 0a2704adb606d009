// Test helpers (not used by the decapsulator): builders of inner packets (ICMP echo, TCP
// SYN) and of their IPIP, GUE and GRE encapsulations, laid out as the kernel's IPVS builds
// them (research/wave2-forwarding.md §1.2-1.3). Used by the unit tests and by the lab test,
// which sends their bytes through a raw socket.
import { internetChecksum, pseudoHeaderSum, sumBytes } from "../../director/packet/checksum.ts";
import { foldSum } from "../../director/packet/checksum.ts";
import { parseIPv4 } from "../../director/net/ipv4-address.ts";
import {
  ETH_P_IP,
  GRE_FLAG_CSUM,
  GRE_FLAG_KEY,
  GRE_FLAG_SEQ,
  GUE_DEFAULT_PORT,
  GUE_FLAG_PRIV,
  GUE_PFLAG_REMCSUM,
  IPPROTO_GRE,
  IPPROTO_IPIP,
} from "./outer-packet.ts";
import { MERGE_AREA_SIZE } from "./tcp-merge.ts";

const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;

function addr(text: string): number {
  const a = parseIPv4(text);
  if (a === null) throw new Error(`bad address ${text}`);
  return a;
}

function put16(buf: Uint8Array, at: number, v: number): void {
  buf[at] = (v >>> 8) & 0xff;
  buf[at + 1] = v & 0xff;
}

function put32(buf: Uint8Array, at: number, v: number): void {
  put16(buf, at, v >>> 16);
  put16(buf, at + 2, v & 0xffff);
}

export interface Ipv4Options {
  tos?: number;
  ttl?: number;
  id?: number;
}

/** An IPv4 packet without options around `payload`, header checksum filled in. */
export function ipv4(
  src: string,
  dst: string,
  proto: number,
  payload: Uint8Array,
  options: Ipv4Options = {},
): Uint8Array {
  const pkt = new Uint8Array(20 + payload.length);
  pkt[0] = 0x45;
  pkt[1] = options.tos ?? 0;
  put16(pkt, 2, pkt.length);
  put16(pkt, 4, options.id ?? 0x1234);
  put16(pkt, 6, 0x4000);
  pkt[8] = options.ttl ?? 64;
  pkt[9] = proto;
  put32(pkt, 12, addr(src));
  put32(pkt, 16, addr(dst));
  put16(pkt, 10, internetChecksum(pkt, 0, 20));
  pkt.set(payload, 20);
  return pkt;
}

/** ICMP echo request src → dst with identifier and sequence number. */
export function icmpEcho(src: string, dst: string, id: number, seq: number, tos = 0): Uint8Array {
  const icmp = new Uint8Array(8 + 16);
  icmp[0] = 8;
  put16(icmp, 4, id);
  put16(icmp, 6, seq);
  for (let i = 8; i < icmp.length; i++) icmp[i] = i;
  put16(icmp, 2, internetChecksum(icmp, 0, icmp.length));
  return ipv4(src, dst, IPPROTO_ICMP, icmp, { tos });
}

/** Offset of the TCP checksum field inside an option-less IPv4 + TCP packet. */
export const TCP_CHECKSUM_AT = 20 + 16;

/**
 * TCP SYN src:sport → dst:dport with an MSS option. `partial`: the checksum field holds the
 * pseudo-header sum only (a CHECKSUM_PARTIAL skb, as remote checksum offload sends it).
 */
export function tcpSyn(
  src: string,
  dst: string,
  sport: number,
  dport: number,
  partial = false,
): Uint8Array {
  const tcp = new Uint8Array(24);
  put16(tcp, 0, sport);
  put16(tcp, 2, dport);
  put32(tcp, 4, 0x01020304);
  tcp[12] = (24 / 4) << 4;
  tcp[13] = 0x02; // SYN
  put16(tcp, 14, 64240);
  tcp.set([2, 4, 0x05, 0xb4], 20); // MSS 1460
  const pseudo = pseudoHeaderSum(addr(src), addr(dst), IPPROTO_TCP, tcp.length);
  put16(tcp, 16, partial ? foldSum(pseudo) : ~foldSum(sumBytes(tcp, 0, 24, pseudo)) & 0xffff);
  return ipv4(src, dst, IPPROTO_TCP, tcp);
}

/** IPIP: outer IPv4 protocol 4, TOS and TTL from the inner packet (as ip_vs_tunnel_xmit). */
export function ipip(outerSrc: string, outerDst: string, inner: Uint8Array): Uint8Array {
  return ipv4(outerSrc, outerDst, IPPROTO_IPIP, inner, { tos: inner[1], ttl: inner[8] });
}

export interface GueOptions {
  port?: number;
  sport?: number;
  /** Full UDP checksum (ipvsadm --tun-csum); default zero (--tun-nocsum). */
  udpChecksum?: boolean;
  /** Remote checksum offload (--tun-remcsum): csum_start and csum_offset in the inner packet. */
  remcsum?: { start: number; offset: number };
  /** Extra option bytes after the known ones (a multiple of 4), counted in Hlen. */
  extraOptions?: number;
  /** GUE version 1: the inner IPv4 header right after the UDP header. */
  direct?: boolean;
  /** Raw overrides of the first GUE header byte (version, C, Hlen) and of proto/flags. */
  firstByte?: number;
  proto?: number;
  flags?: number;
  privateFlags?: number;
}

/** GUE: outer IPv4 + UDP (to port 6080 unless told) + GUE header + inner. */
export function gue(
  outerSrc: string,
  outerDst: string,
  inner: Uint8Array,
  options: GueOptions = {},
): Uint8Array {
  const privLen = options.remcsum || options.privateFlags !== undefined ? 4 : 0;
  const remLen = options.remcsum ? 4 : 0;
  const optLen = privLen + remLen + (options.extraOptions ?? 0);
  const gueLen = options.direct ? 0 : 4 + optLen;
  const udp = new Uint8Array(8 + gueLen + inner.length);
  put16(udp, 0, options.sport ?? 40000);
  put16(udp, 2, options.port ?? GUE_DEFAULT_PORT);
  put16(udp, 4, udp.length);
  if (!options.direct) {
    udp[8] = options.firstByte ?? optLen / 4;
    udp[9] = options.proto ?? IPPROTO_IPIP;
    put16(udp, 10, options.flags ?? (privLen ? GUE_FLAG_PRIV : 0));
    if (privLen) {
      put32(udp, 12, options.privateFlags ?? GUE_PFLAG_REMCSUM);
    }
    if (options.remcsum) {
      put16(udp, 16, options.remcsum.start);
      put16(udp, 18, options.remcsum.start + options.remcsum.offset);
    }
  }
  udp.set(inner, 8 + gueLen);
  const pkt = ipv4(outerSrc, outerDst, IPPROTO_UDP, udp, { tos: inner[1], ttl: inner[8] });
  if (options.udpChecksum || options.remcsum) {
    const pseudo = pseudoHeaderSum(addr(outerSrc), addr(outerDst), IPPROTO_UDP, udp.length);
    put16(pkt, 26, internetChecksum(pkt, 20, udp.length, pseudo) || 0xffff);
  }
  return pkt;
}

/** GRE: outer IPv4 protocol 47 + 4-byte GRE header (+ checksum word with C) + inner. */
export function gre(
  outerSrc: string,
  outerDst: string,
  inner: Uint8Array,
  options: {
    checksum?: boolean;
    flags?: number;
    protocol?: number;
    /** RFC 2890's key and sequence number words (K and S set), which IPVS never sends. */
    key?: number;
    seq?: number;
  } = {},
): Uint8Array {
  const words = [options.key, options.seq].filter((w) => w !== undefined);
  const at = options.checksum ? 8 : 4;
  const hlen = at + 4 * words.length;
  const body = new Uint8Array(hlen + inner.length);
  const flags = (options.checksum ? GRE_FLAG_CSUM : 0) |
    (options.key !== undefined ? GRE_FLAG_KEY : 0) | (options.seq !== undefined ? GRE_FLAG_SEQ : 0);
  put16(body, 0, options.flags ?? flags);
  put16(body, 2, options.protocol ?? ETH_P_IP);
  words.forEach((w, i) => put32(body, at + 4 * i, w));
  body.set(inner, hlen);
  if (options.checksum) put16(body, 4, internetChecksum(body, 0, body.length));
  return ipv4(outerSrc, outerDst, IPPROTO_GRE, body, { tos: inner[1], ttl: inner[8] });
}

export interface TcpSegmentOptions extends Ipv4Options {
  seq: number;
  ack?: number;
  /** TCP flags byte; default ACK. */
  flags?: number;
  window?: number;
  /** Option bytes (a multiple of 4), e.g. a timestamp option. */
  options?: Uint8Array;
}

/** A TCP segment src:sport → dst:dport carrying `payload`, checksums complete. */
export function tcpSegment(
  src: string,
  dst: string,
  sport: number,
  dport: number,
  payload: Uint8Array,
  o: TcpSegmentOptions,
): Uint8Array {
  const opts = o.options ?? new Uint8Array(0);
  const thl = 20 + opts.length;
  const tcp = new Uint8Array(thl + payload.length);
  put16(tcp, 0, sport);
  put16(tcp, 2, dport);
  put32(tcp, 4, o.seq);
  put32(tcp, 8, o.ack ?? 0x0a0b0c0d);
  tcp[12] = (thl / 4) << 4;
  tcp[13] = o.flags ?? 0x10;
  put16(tcp, 14, o.window ?? 502);
  tcp.set(opts, 20);
  tcp.set(payload, thl);
  const pseudo = pseudoHeaderSum(addr(src), addr(dst), IPPROTO_TCP, tcp.length);
  put16(tcp, 16, ~foldSum(sumBytes(tcp, 0, tcp.length, pseudo)) & 0xffff);
  return ipv4(src, dst, IPPROTO_TCP, tcp, o);
}

/**
 * A receiver stand-in whose batch holds the given packets, its slots and merge area in one
 * buffer as RawReceiver's; refill() copies them back byte by byte (remote checksum offload
 * and merging rewrite bytes; TypedArray.set would allocate a little).
 */
export function fakeReceiver(pkts: Uint8Array[], slotSize = 65536) {
  const memory = new Uint8Array(pkts.length * slotSize + MERGE_AREA_SIZE);
  const slots = pkts.map((p, i) => {
    const slot = memory.subarray(i * slotSize, (i + 1) * slotSize);
    slot.set(p);
    return slot;
  });
  return {
    fd: -1,
    batch: pkts.length,
    receive: () => pkts.length,
    slot: (i: number) => slots[i]!,
    length: (i: number) => pkts[i]!.length,
    mergeArea: memory.subarray(pkts.length * slotSize),
    refill: () => {
      for (let i = 0; i < pkts.length; i++) {
        const p = pkts[i]!;
        const slot = slots[i]!;
        for (let b = 0; b < p.length; b++) slot[b] = p[b]!;
      }
    },
  };
}

/** Refreshes the IPv4 header checksum at buf[off] after a test changed the header. */
export function refreshIpChecksum(buf: Uint8Array, off: number): void {
  put16(buf, off + 10, 0);
  put16(buf, off + 10, internetChecksum(buf, off, (buf[off]! & 0x0f) * 4));
}

/** Hex of the bytes (for the lab's raw-socket sender). */
export function hex(buf: Uint8Array): string {
  return Buffer.from(buf).toString("hex");
}
