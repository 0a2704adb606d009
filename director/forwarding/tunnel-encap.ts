// The outer headers of VS/TUN, as IPVS builds them (ip_vs_tunnel_xmit, ipvs_gue_encap,
// ipvs_gre_encap): an IPv4 header from the director to the real server whose TOS, TTL and DF
// come from the inner packet, then nothing more (IPIP), a UDP header and a 4-byte GUE header
// (GUE: version 0, no options, inner protocol IPIP), or a GRE header (protocol 0x0800,
// optionally with the checksum). Pure functions over a buffer that already holds the inner
// packet after room for the headers.
import { internetChecksum, pseudoHeaderSum, sumBytes } from "../packet/checksum.ts";
import {
  IPPROTO_GRE,
  IPPROTO_IPIP,
  IPPROTO_UDP,
  IPV4_DF,
  IPV4_MIN_HEADER_LEN,
} from "../packet/ipv4.ts";
import { UDP_HEADER_LEN } from "../packet/udp.ts";
import type { TunnelOptions } from "../service/tunnel-options.ts";

/** GUE's base header (no options): the kernel's guehdr. */
export const GUE_HEADER_LEN = 4;
/** GRE's base header; GRE_CSUM_LEN more with the C bit (checksum + reserved). */
export const GRE_HEADER_LEN = 4;
export const GRE_CSUM_LEN = 4;
/** GRE's C bit and the protocol type of an IPv4 payload. */
const GRE_FLAG_CSUM = 0x8000;
const GRE_PROTO_IPV4 = 0x0800;
/** Where udp_flow_src_port puts GUE's source port: the default ip_local_port_range. */
const GUE_SPORT_MIN = 32768;
const GUE_SPORT_MAX = 60999;

/** Bytes the tunnel puts in front of the client's packet. */
export function tunnelOverhead(t: Readonly<TunnelOptions>): number {
  switch (t.type) {
    case "ipip":
      return IPV4_MIN_HEADER_LEN;
    case "gue":
      return IPV4_MIN_HEADER_LEN + UDP_HEADER_LEN + GUE_HEADER_LEN;
    case "gre":
      return IPV4_MIN_HEADER_LEN + GRE_HEADER_LEN + (t.checksum === "csum" ? GRE_CSUM_LEN : 0);
  }
}

/** The outer IPv4 header's fields that are not the inner packet's. */
export interface OuterAddresses {
  src: number;
  dst: number;
  /** A hash of the inner flow: GUE's source port, so the real server's RSS spreads flows. */
  flowHash: number;
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

function put32(b: Uint8Array, at: number, v: number): void {
  put16(b, at, v >>> 16);
  put16(b, at + 2, v & 0xffff);
}

/**
 * Writes the tunnel's headers at buf[at, at + tunnelOverhead(t)) in front of the inner IPv4
 * packet of `innerLen` bytes that follows them, with every checksum the options call for
 * (GUE's UDP checksum for csum and remcsum: the inner packet's own checksums are complete,
 * so remote checksum offload has nothing to offload, as in IPVS when the skb is not
 * CHECKSUM_PARTIAL). Returns the whole packet's length.
 */
export function writeTunnelHeaders(
  buf: Uint8Array,
  at: number,
  innerLen: number,
  t: Readonly<TunnelOptions>,
  o: OuterAddresses,
): number {
  const overhead = tunnelOverhead(t);
  const inner = at + overhead;
  const total = overhead + innerLen;
  const protocol = t.type === "ipip" ? IPPROTO_IPIP : t.type === "gue" ? IPPROTO_UDP : IPPROTO_GRE;
  // Outer IPv4: TOS and TTL of the inner packet, DF as the inner has it (pmtu_disc on);
  // id 0: the kernel picks one for a raw packet (IP_HDRINCL).
  buf[at] = 0x45;
  buf[at + 1] = buf[inner + 1]!;
  put16(buf, at + 2, total);
  put16(buf, at + 4, 0);
  put16(buf, at + 6, (buf[inner + 6]! << 8) & IPV4_DF);
  buf[at + 8] = buf[inner + 8]!;
  buf[at + 9] = protocol;
  put16(buf, at + 10, 0);
  put32(buf, at + 12, o.src);
  put32(buf, at + 16, o.dst);
  put16(buf, at + 10, internetChecksum(buf, at, IPV4_MIN_HEADER_LEN));
  const l4 = at + IPV4_MIN_HEADER_LEN;
  const l4Len = total - IPV4_MIN_HEADER_LEN;
  if (t.type === "gue") {
    const sport = GUE_SPORT_MIN + ((o.flowHash >>> 0) % (GUE_SPORT_MAX - GUE_SPORT_MIN + 1));
    put16(buf, l4, sport);
    put16(buf, l4 + 2, t.port);
    put16(buf, l4 + 4, l4Len);
    put16(buf, l4 + 6, 0);
    // guehdr: version 0, control 0, hlen 0 (no options); proto_ctype = IPIP; flags 0.
    put32(buf, l4 + UDP_HEADER_LEN, IPPROTO_IPIP << 16);
    if (t.checksum !== "nocsum") {
      const sum = sumBytes(buf, l4, l4Len, pseudoHeaderSum(o.src, o.dst, IPPROTO_UDP, l4Len));
      const check = internetChecksum(buf, 0, 0, sum);
      put16(buf, l4 + 6, check === 0 ? 0xffff : check);
    }
  } else if (t.type === "gre") {
    const csum = t.checksum === "csum";
    put16(buf, l4, csum ? GRE_FLAG_CSUM : 0);
    put16(buf, l4 + 2, GRE_PROTO_IPV4);
    if (csum) {
      put32(buf, l4 + GRE_HEADER_LEN, 0);
      put16(buf, l4 + GRE_HEADER_LEN, internetChecksum(buf, l4, l4Len));
    }
  }
  return total;
}
