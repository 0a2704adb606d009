// realservers/tunnel-decap/: the VS/TUN real server's userspace decapsulator, for kernels
// without ipip, fou or ip_gre (this module: the pure packet checks).
//
// Parses and validates one tunnel packet as a raw socket returns it (the outer IPv4 header
// first) and finds the inner IPv4 packet, following what the kernel's own receivers accept:
// ipip_rcv (IPIP), fou's gue_udp_recv and validate_gue_flags (GUE, include/net/gue.h),
// gre_parse_header (GRE). Everything is byte math over the caller's buffer: no allocation.
// The outer header checksum is not verified here: the kernel's ip_rcv did before any socket
// saw the packet, and it reassembled fragments.
import { foldSum, pseudoHeaderSum, sumBytes } from "../../director/packet/checksum.ts";
import { checksumReplace16 } from "../../director/packet/checksum.ts";
import { IPPROTO_UDP, Ipv4View } from "../../director/packet/ipv4.ts";
import { PacketError } from "../../director/packet/packet-error.ts";
import { Verdict } from "./drop-reasons.ts";

/** IPPROTO_IPIP / IPPROTO_GRE from <netinet/in.h> (UDP is the director's constant). */
export const IPPROTO_IPIP = 4;
export const IPPROTO_GRE = 47;

export type TunnelType = "ipip" | "gue" | "gre";
export const TUNNEL_TYPES: readonly TunnelType[] = ["ipip", "gue", "gre"];
/** The outer protocol each type arrives with (the raw socket's protocol). */
export const TUNNEL_PROTOCOL: Readonly<Record<TunnelType, number>> = {
  ipip: IPPROTO_IPIP,
  gue: IPPROTO_UDP,
  gre: IPPROTO_GRE,
};

export const UDP_HEADER_LEN = 8;

// GUE header (include/net/gue.h): Ver(2) C(1) Hlen(5) | Proto/ctype(8) | Flags(16), then
// Hlen*4 bytes of options. Flags and private flags as the 16- and 32-bit words read them.
export const GUE_HEADER_LEN = 4;
export const GUE_FLAG_PRIV = 0x0001;
/** Private flags word, then remcsum's csum_start and csum_offset (u16 each). */
export const GUE_LEN_PRIV = 4;
export const GUE_PFLAG_REMCSUM = 0x80000000;
export const GUE_PLEN_REMCSUM = 4;
/** The port IPVS and Katran use by default for GUE (ipvsadm --tun-port has no default). */
export const GUE_DEFAULT_PORT = 6080;

// GRE header (RFC 2784, net/ipv4/gre_demux.c): flags+version(16) | protocol(16), then the
// checksum and a reserved word when C is set.
export const GRE_HEADER_LEN = 4;
export const GRE_FLAG_CSUM = 0x8000;
/** RFC 2890's key and sequence number flags: refused (IPVS sets neither). */
export const GRE_FLAG_KEY = 0x2000;
export const GRE_FLAG_SEQ = 0x1000;
export const GRE_CSUM_LEN = 4;
export const ETH_P_IP = 0x0800;

const ECN_MASK = 0x03;
const ECN_CE = 0x03;

/**
 * What the decapsulator accepts, for every type it receives (each type has a raw socket of
 * its own, so the caller says which one a packet came from): set by the CLI, address sets
 * refreshed by the caller.
 */
export interface DecapPolicy {
  guePort: number;
  /** Directors' addresses as signed 32-bit numbers (Ipv4View.srcInt's form). */
  directors: ReadonlySet<number>;
  /** Accepted inner destinations as signed 32-bit numbers. */
  innerDestinations: ReadonlySet<number>;
}

/** Where the inner packet is, once decapsulate() returned Verdict.INJECT. Reused. */
export class Decapsulated {
  innerOffset = 0;
  innerLength = 0;
  /** Working state between the steps: end of the outer payload, remcsum (or -1). */
  payloadEnd = 0;
  remcsumStart = -1;
  remcsumOffset = 0;
}

const outerView = new Ipv4View();
const innerView = new Ipv4View();

function u16(buf: Uint8Array, at: number): number {
  return (buf[at]! << 8) | buf[at + 1]!;
}

/**
 * Checks one packet buf[0, length) (outer IPv4 header first) that the raw socket of `type`
 * received against the policy. Returns Verdict.INJECT with out.innerOffset/innerLength set,
 * or the reason not to. On a GUE packet with remote checksum offload, the inner L4 checksum
 * is finished in place.
 */
export function decapsulate(
  buf: Uint8Array,
  length: number,
  type: TunnelType,
  policy: DecapPolicy,
  out: Decapsulated,
): number {
  const outer = outerView;
  if (outer.bind(buf, 0, length) !== PacketError.OK) return Verdict.TRUNCATED_OUTER;
  const src = outer.srcInt;
  const payload = outer.headerLength;
  out.payloadEnd = outer.totalLength;
  out.remcsumStart = -1;
  if (outer.protocol !== TUNNEL_PROTOCOL[type]) return Verdict.NOT_TUNNEL;
  let inner: number;
  if (type === "gue") {
    inner = parseGue(buf, payload, src, outer.dstInt, policy, out);
  } else if (!policy.directors.has(src)) {
    return Verdict.NOT_DIRECTOR;
  } else {
    inner = type === "gre" ? parseGre(buf, payload, out) : payload;
  }
  if (inner < 0) return -inner;
  return checkInner(buf, inner, outer.tos, policy, out);
}

/** UDP + GUE at buf[udp]; returns the inner offset or -verdict. Narrows out.payloadEnd. */
function parseGue(
  buf: Uint8Array,
  udp: number,
  src: number,
  dst: number,
  policy: DecapPolicy,
  out: Decapsulated,
): number {
  if (udp + UDP_HEADER_LEN > out.payloadEnd) return -Verdict.TRUNCATED_OUTER;
  const fromDirector = policy.directors.has(src);
  if (u16(buf, udp + 2) !== policy.guePort) {
    // Only a director's datagram is a GUE packet sent to the wrong port; others are just UDP.
    return fromDirector ? -Verdict.GUE_WRONG_PORT : -Verdict.NOT_TUNNEL;
  }
  if (!fromDirector) return -Verdict.NOT_DIRECTOR;
  const udpLength = u16(buf, udp + 4);
  if (udpLength < UDP_HEADER_LEN || udp + udpLength > out.payloadEnd) {
    return -Verdict.TRUNCATED_OUTER;
  }
  out.payloadEnd = udp + udpLength;
  if (u16(buf, udp + 6) !== 0) {
    const sum = pseudoHeaderSum(src, dst, IPPROTO_UDP, udpLength) +
      sumBytes(buf, udp, udpLength, 0);
    if (foldSum(sum) !== 0xffff) return -Verdict.BAD_UDP_CHECKSUM;
  }
  const gue = udp + UDP_HEADER_LEN;
  if (gue + GUE_HEADER_LEN > out.payloadEnd) return -Verdict.TRUNCATED_OUTER;
  const b0 = buf[gue]!;
  const version = b0 >>> 6;
  if (version === 1) {
    // Direct IP encapsulation: the "GUE header" is the inner IPv4 header itself (0x4_).
    return b0 >>> 4 === 4 ? gue : -Verdict.GUE_BAD_VERSION;
  }
  if (version !== 0) return -Verdict.GUE_BAD_VERSION;
  const optionsLength = (b0 & 0x1f) << 2;
  const inner = gue + GUE_HEADER_LEN + optionsLength;
  if (inner > out.payloadEnd) return -Verdict.TRUNCATED_OUTER;
  const verdict = gueFlags(buf, gue, optionsLength, out);
  if (verdict !== Verdict.INJECT) return -verdict;
  if ((b0 & 0x20) !== 0) return -Verdict.GUE_CONTROL;
  if (buf[gue + 1] !== IPPROTO_IPIP) return -Verdict.INNER_NOT_IPV4;
  return inner;
}

/**
 * validate_gue_flags: only the private flag, whose word allows only REMCSUM; the options
 * they need must fit in Hlen (longer options are skipped). Records remcsum's two offsets.
 */
function gueFlags(buf: Uint8Array, gue: number, optionsLength: number, out: Decapsulated): number {
  const flags = u16(buf, gue + 2);
  if ((flags & ~GUE_FLAG_PRIV) !== 0) return Verdict.GUE_BAD_FLAGS;
  if ((flags & GUE_FLAG_PRIV) === 0) return Verdict.INJECT;
  if (optionsLength < GUE_LEN_PRIV) return Verdict.GUE_BAD_FLAGS;
  const at = gue + GUE_HEADER_LEN;
  const privateFlags = ((buf[at]! << 24) | (buf[at + 1]! << 16) | u16(buf, at + 2)) >>> 0;
  if ((privateFlags & ~GUE_PFLAG_REMCSUM) !== 0) return Verdict.GUE_BAD_FLAGS;
  if (privateFlags === GUE_PFLAG_REMCSUM) {
    if (optionsLength < GUE_LEN_PRIV + GUE_PLEN_REMCSUM) return Verdict.GUE_BAD_FLAGS;
    out.remcsumStart = u16(buf, at + GUE_LEN_PRIV);
    out.remcsumOffset = u16(buf, at + GUE_LEN_PRIV + 2);
  }
  return Verdict.INJECT;
}

/** GRE at buf[gre]; returns the inner offset or -verdict. */
function parseGre(buf: Uint8Array, gre: number, out: Decapsulated): number {
  if (gre + GRE_HEADER_LEN > out.payloadEnd) return -Verdict.TRUNCATED_OUTER;
  const flags = u16(buf, gre);
  // Version bits and every flag but C (key, sequence, routing, recursion) are refused: IPVS
  // sends none of them. This end has no keyed device, so a key is a mismatch, dropped as
  // ip_gre drops one for a keyed tunnel (its catch-all gre0 would take it; we do not).
  if ((flags & ~GRE_FLAG_CSUM) !== 0) return -Verdict.GRE_BAD_FLAGS;
  const checksummed = (flags & GRE_FLAG_CSUM) !== 0;
  const inner = gre + GRE_HEADER_LEN + (checksummed ? GRE_CSUM_LEN : 0);
  if (inner > out.payloadEnd) return -Verdict.TRUNCATED_OUTER;
  if (u16(buf, gre + 2) !== ETH_P_IP) return -Verdict.INNER_NOT_IPV4;
  // The checksum covers the GRE header and its payload (RFC 2784 §2.5).
  if (checksummed && foldSum(sumBytes(buf, gre, out.payloadEnd - gre, 0)) !== 0xffff) {
    return -Verdict.BAD_GRE_CHECKSUM;
  }
  return inner;
}

/** The inner IPv4 packet at buf[inner]: sane, for us; ECN and remcsum applied. */
function checkInner(
  buf: Uint8Array,
  inner: number,
  outerTos: number,
  policy: DecapPolicy,
  out: Decapsulated,
): number {
  const view = innerView;
  const code = view.bind(buf, inner, out.payloadEnd - inner);
  if (code === PacketError.TRUNCATED_IP || code === PacketError.TOTAL_LENGTH_BEYOND_BUFFER) {
    return Verdict.TRUNCATED_INNER;
  }
  if (code !== PacketError.OK) return Verdict.BAD_INNER_HEADER;
  if (!view.checksumValid()) return Verdict.BAD_INNER_CHECKSUM;
  if (!policy.innerDestinations.has(view.dstInt)) return Verdict.INNER_DST_NOT_LOCAL;
  const length = view.totalLength;
  if (out.remcsumStart >= 0) {
    const start = out.remcsumStart;
    const field = out.remcsumOffset;
    if (start > length || field + 2 > length) return Verdict.GUE_BAD_REMCSUM;
    finishRemoteChecksum(buf, inner, length, start, field);
  }
  if ((outerTos & ECN_MASK) === ECN_CE) {
    // RFC 6040 decapsulation (the kernel's INET_ECN_decapsulate): CE propagates inward.
    const tos = view.tos;
    if ((tos & ECN_MASK) === 0) return Verdict.ECN_CE_NOT_ECT;
    if ((tos & ECN_MASK) !== ECN_CE) {
      const oldWord = u16(buf, inner);
      view.tos = tos | ECN_CE;
      view.checksum = checksumReplace16(view.checksum, oldWord, u16(buf, inner));
    }
  }
  out.innerOffset = inner;
  out.innerLength = length;
  return Verdict.INJECT;
}

/**
 * Remote checksum offload, as the kernel's gue_remcsum → skb_remcsum_process →
 * remcsum_adjust with nopartial: the field at `field` holds the pseudo-header sum (the
 * sender's CHECKSUM_PARTIAL seed); the checksum of bytes [start, end) of the inner packet,
 * folded and complemented, replaces it. Sums are taken from the inner packet's start, as
 * csum_partial does, so an odd start keeps its byte lanes.
 */
export function finishRemoteChecksum(
  buf: Uint8Array,
  inner: number,
  length: number,
  start: number,
  field: number,
): void {
  const all = foldSum(sumBytes(buf, inner, length, 0));
  const before = foldSum(sumBytes(buf, inner, start, 0));
  // Ones' complement subtraction: all - before = all + ~before.
  const check = ~foldSum(all + (~before & 0xffff)) & 0xffff;
  buf[inner + field] = check >>> 8;
  buf[inner + field + 1] = check;
}
