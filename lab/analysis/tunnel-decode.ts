// Decodes a VS/TUN packet: the outer IPv4 header (already a Packet), the tunnel header
// between it and the client's packet (none for IPIP, UDP + 4-byte GUE header, GRE with an
// optional checksum), and the inner IPv4 packet, decoded like any captured one so the
// connection and path logic can follow the client's flow inside the tunnel. Written apart
// from director/forwarding/tunnel-encap.ts on purpose: the analysis checks the director.
import { foldSum, sumBytes } from "./checksum.ts";
import { decodeFrame, LINKTYPE_RAW } from "./decode.ts";
import type { Packet } from "./packet.ts";
import { IPPROTO_GRE, IPPROTO_IPIP, IPPROTO_UDP } from "../../director/packet/ipv4.ts";

export type TunnelType = "ipip" | "gue" | "gre";
export const TUNNEL_TYPES: readonly TunnelType[] = ["ipip", "gue", "gre"];

/** ipvsadm's default --tun-port in its man page (and the lab's). */
export const GUE_DEFAULT_PORT = 6080;

const UDP_HEADER_LEN = 8;
/** GUE (include/net/gue.h): Ver(2) C(1) Hlen(5) | Proto(8) | Flags(16); Hlen in 4-byte words. */
const GUE_BASE_LEN = 4;
/** GRE (RFC 2784/2890): C, K, S bits of the first byte; version in the second. */
const GRE_BASE_LEN = 4;
const GRE_C = 0x80;
const GRE_K = 0x20;
const GRE_S = 0x10;
const GRE_ETHERTYPE_IPV4 = 0x0800;

/** Bytes an outer header takes from the path MTU, per type (GRE with its checksum word). */
export const TUNNEL_OVERHEAD: Readonly<Record<TunnelType, number>> = {
  ipip: 20,
  gue: 20 + UDP_HEADER_LEN + GUE_BASE_LEN,
  gre: 20 + GRE_BASE_LEN,
};
/** GRE's optional checksum and reserved word. */
export const GRE_CHECKSUM_OVERHEAD = 4;

export type TunnelChecksum = "none" | "ok" | "bad";

export interface TunnelPacket {
  type: TunnelType;
  /** The outer packet as captured (its src/dst/ttl/DF/protocol, its IP checksum). */
  outer: Packet;
  /** GUE: the UDP destination port; null otherwise. */
  port: number | null;
  /** GRE's checksum, or GUE's UDP checksum ("none": absent or zero). */
  checksum: TunnelChecksum;
  /** What is wrong with the tunnel header itself (GUE version, GRE flags, ...), or null. */
  fault: string | null;
  /** The client's packet inside, or null when it could not be decoded (see `fault`). */
  inner: Packet | null;
}

function u16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

/** The TOS byte of a packet's IP header. */
export function tosOf(p: Packet): number {
  return p.ipBytes[1];
}

function innerPacket(
  outer: Packet,
  bytes: Uint8Array,
): { inner: Packet | null; fault: string | null } {
  const missing = outer.originalLength - outer.capturedLength;
  const r = decodeFrame(LINKTYPE_RAW, bytes, {
    index: outer.index,
    time: outer.time,
    originalLength: bytes.length + Math.max(0, missing),
  });
  return "packet" in r
    ? { inner: r.packet, fault: null }
    : { inner: null, fault: `the inner packet is ${r.skipped}` };
}

function gue(outer: Packet): TunnelPacket {
  const b = outer.payload;
  const base = {
    type: "gue" as const,
    outer,
    port: outer.dstPort,
    checksum: outer.l4ChecksumNote?.startsWith("UDP without checksum")
      ? "none" as const
      : outer.l4ChecksumOk === false
      ? "bad" as const
      : "ok" as const,
  };
  if (b.length < GUE_BASE_LEN) {
    return { ...base, fault: "the GUE header was not captured whole", inner: null };
  }
  const version = b[0] >> 6;
  const control = (b[0] >> 5) & 1;
  const hlen = (b[0] & 0x1f) * 4;
  const fault = version !== 0
    ? `GUE version ${version}, not 0`
    : control
    ? "the GUE control bit is set"
    : b[1] !== IPPROTO_IPIP
    ? `GUE protocol ${b[1]}, not 4 (IPv4)`
    : null;
  const inner = innerPacket(outer, b.subarray(GUE_BASE_LEN + hlen));
  return { ...base, fault: fault ?? inner.fault, inner: inner.inner };
}

function gre(outer: Packet): TunnelPacket {
  const b = outer.payload;
  const base = { type: "gre" as const, outer, port: null };
  if (b.length < GRE_BASE_LEN) {
    return {
      ...base,
      checksum: "none",
      fault: "the GRE header was not captured whole",
      inner: null,
    };
  }
  const flags = b[0];
  const version = b[1] & 7;
  const length = GRE_BASE_LEN + (flags & GRE_C ? 4 : 0) + (flags & GRE_K ? 4 : 0) +
    (flags & GRE_S ? 4 : 0);
  let checksum: TunnelChecksum = "none";
  if (flags & GRE_C) {
    // Over the GRE header and its payload, checksum field included (RFC 2784).
    const whole = outer.payloadLength <= b.length;
    checksum = whole && foldSum(sumBytes(b, 0, b.length)) === 0xffff ? "ok" : "bad";
  }
  const fault = version !== 0
    ? `GRE version ${version}, not 0`
    : (flags & ~GRE_C & 0xff) || (b[1] & 0xf8)
    ? `GRE flags 0x${u16(b, 0).toString(16).padStart(4, "0")}: only the checksum bit is IPVS's`
    : u16(b, 2) !== GRE_ETHERTYPE_IPV4
    ? `GRE protocol 0x${u16(b, 2).toString(16)}, not 0x0800 (IPv4)`
    : null;
  const inner = innerPacket(outer, b.subarray(length));
  return { ...base, checksum, fault: fault ?? inner.fault, inner: inner.inner };
}

/**
 * The tunnel packet `p` carries, or null when it is none: protocol 4 (IPIP), 47 (GRE), or
 * UDP from `from` (the director; any port, so a wrong --tun-port is seen as such) whose
 * payload starts like a GUE header. Non-first fragments are no tunnel packets here.
 */
export function decodeTunnel(p: Packet, from?: string): TunnelPacket | null {
  if (p.fragmentOffset > 0) return null;
  if (p.protocolNumber === IPPROTO_IPIP) {
    const inner = innerPacket(p, p.payload);
    return { type: "ipip", outer: p, port: null, checksum: "none", ...inner };
  }
  if (p.protocolNumber === IPPROTO_GRE) return gre(p);
  if (p.protocolNumber === IPPROTO_UDP && (from === undefined || p.src === from)) {
    const b = p.payload;
    const looksGue = b.length >= GUE_BASE_LEN + 20 &&
      (b[GUE_BASE_LEN + (b[0] & 0x1f) * 4] >> 4) === 4;
    return looksGue ? gue(p) : null;
  }
  return null;
}

/** "IPIP", "GUE:6080", "GRE+csum": how the demo and messages name a tunnel packet's kind. */
export function tunnelLabel(t: TunnelPacket): string {
  if (t.type === "gue") return `GUE udp/${t.port}${t.checksum === "none" ? "" : " csum"}`;
  if (t.type === "gre") return `GRE${t.checksum === "none" ? "" : " csum"}`;
  return "IPIP";
}
