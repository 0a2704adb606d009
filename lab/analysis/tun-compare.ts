// What a VS/TUN director may and may not change, packet by packet: the outer header it
// puts in front (research/wave2-forwarding.md §1.2-1.3: from the director to the real
// server, protocol 4 / UDP to the GUE port / 47, TTL, TOS and DF from the inner packet) and
// the inner packet, which is the client's packet but for TTL (one less) and checksums, or a
// TCP segment of it where the director cut a super-packet.
import { compareDrCopy } from "./dr-path.ts";
import type { Packet } from "./packet.ts";
import { tosOf, type TunnelPacket, type TunnelType } from "./tunnel-decode.ts";

/** What the outer header must say. */
export interface OuterExpectation {
  director: string;
  /** The real server holding the connection (null: unknown, any server is accepted). */
  server: string | null;
  servers: ReadonlyMap<string, string>;
  type: TunnelType;
  /** GUE: the --tun-port. */
  port?: number;
  /** A GRE checksum (C bit) or GUE UDP checksum present (true) or absent (false); either. */
  checksum?: boolean;
}

const ECN_MASK = 3;
const ECN_CE = 3;
const ECN_ECT0 = 2;

/** The outer TOS IPVS writes (INET_ECN_encapsulate: DSCP copied, inner CE → ECT(0)). */
export function expectedOuterTos(innerTos: number): number {
  return (innerTos & ECN_MASK) === ECN_CE ? (innerTos & ~ECN_MASK) | ECN_ECT0 : innerTos;
}

function name(servers: ReadonlyMap<string, string>, addr: string): string {
  const host = servers.get(addr);
  return host ? `${addr} (${host})` : `${addr} (no real server)`;
}

/** What is wrong with a tunnel packet's outer header, in words, or null. */
export function outerFault(t: TunnelPacket, want: OuterExpectation): string | null {
  const o = t.outer;
  const inner = t.inner!;
  if (o.src !== want.director) return `outer source ${o.src}, not the director's ${want.director}`;
  if (!want.servers.has(o.dst)) return `outer destination ${name(want.servers, o.dst)}`;
  if (want.server && o.dst !== want.server) {
    return `outer destination ${name(want.servers, o.dst)}, but ` +
      `${name(want.servers, want.server)} holds the connection`;
  }
  if (t.type !== want.type) {
    return `${
      t.type === "ipip" ? "an" : "a"
    } ${t.type.toUpperCase()} packet (protocol ${o.protocolNumber}), not ` +
      want.type.toUpperCase();
  }
  if (t.type === "gue" && want.port !== undefined && t.port !== want.port) {
    return `GUE to UDP port ${t.port}, not the --tun-port ${want.port}`;
  }
  if (t.fault) return t.fault;
  if (want.checksum !== undefined && (t.checksum !== "none") !== want.checksum) {
    const what = t.type === "gre" ? "GRE checksum (C bit)" : "UDP checksum";
    return want.checksum
      ? `no ${what}, though the table asks for one (--tun-csum)`
      : `a ${what}, though the table gives --tun-nocsum`;
  }
  if (t.checksum === "bad") {
    return t.type === "gre"
      ? "the GRE checksum does not verify"
      : "the outer UDP checksum does not verify";
  }
  if (!o.ipChecksumOk) return "the outer IP header checksum does not verify";
  if (o.headerLength !== 20) return `the outer header has options (${o.headerLength} bytes)`;
  if (o.moreFragments || o.fragmentOffset > 0) return "the outer packet is a fragment";
  if (o.ttl !== inner.ttl) return `outer TTL ${o.ttl}, not the inner packet's ${inner.ttl}`;
  if (tosOf(o) !== expectedOuterTos(tosOf(inner))) {
    return `outer TOS 0x${tosOf(o).toString(16)}, not the inner packet's ` +
      `0x${tosOf(inner).toString(16)}`;
  }
  if (o.dontFragment !== inner.dontFragment) {
    return `outer DF ${o.dontFragment ? "set" : "clear"}, inner DF ` +
      (inner.dontFragment ? "set" : "clear");
  }
  return null;
}

/** L4 checksum field offset from the L4 header (TCP 16, UDP 6), or -1. */
function l4ChecksumAt(p: Packet): number {
  return p.protocol === "tcp" ? 16 : p.protocol === "udp" ? 6 : -1;
}

/** The inner packet against the client's as the director got it, lengths equal. */
function wholeFault(arrived: Packet, inner: Packet): string | null {
  const at = arrived.headerLength + l4ChecksumAt(arrived);
  const sameBut = (b: Uint8Array) => {
    const c = new Uint8Array(b);
    if (at >= arrived.headerLength && at + 1 < c.length) c[at] = c[at + 1] = 0;
    return c;
  };
  // The director may complete a partial L4 checksum: compare without it, then verify it.
  const fault = compareDrCopy(
    { ...arrived, ipBytes: sameBut(arrived.ipBytes) },
    { ...inner, ipBytes: sameBut(inner.ipBytes) },
  );
  if (fault) return fault;
  if (inner.l4ChecksumOk === false) return `the inner ${inner.protocol} checksum does not verify`;
  return null;
}

/** IP header bytes a segment may have of its own: total length, id, TTL, checksum. */
const SEGMENT_IP_FREE = new Set([2, 3, 4, 5, 8, 10, 11]);
/** TCP header bytes a segment may have of its own: sequence number, flags, checksum. */
const SEGMENT_TCP_FREE = new Set([4, 5, 6, 7, 13, 16, 17]);
const FIN_PSH = 0x09;

/** One TCP segment of the arrived super-packet against the bytes it should carry. */
function segmentFault(arrived: Packet, seg: Packet): string | null {
  const a = arrived.ipBytes;
  const b = seg.ipBytes;
  if (arrived.headerLength !== seg.headerLength) return "the IP header length changed";
  for (let i = 0; i < arrived.headerLength; i++) {
    if (!SEGMENT_IP_FREE.has(i) && a[i] !== b[i]) return `IP header byte ${i} changed`;
  }
  if (seg.ttl !== arrived.ttl - 1) {
    return `TTL ${arrived.ttl} became ${seg.ttl}, not ${arrived.ttl - 1}`;
  }
  if (!seg.ipChecksumOk) return "the IP header checksum does not verify";
  const hl = arrived.headerLength;
  const th = arrived.tcp!.headerLength;
  if (seg.tcp!.headerLength !== th) return "the TCP header length changed";
  for (let i = 0; i < th; i++) {
    if (!SEGMENT_TCP_FREE.has(i) && a[hl + i] !== b[hl + i]) return `TCP header byte ${i} changed`;
  }
  if ((seg.tcp!.flags & ~FIN_PSH) !== (arrived.tcp!.flags & ~FIN_PSH)) {
    return "the TCP flags changed";
  }
  const from = (seg.tcp!.seq - arrived.tcp!.seq) >>> 0;
  const want = arrived.payload.subarray(from, from + seg.payloadLength);
  for (let i = 0; i < seg.payload.length; i++) {
    if (seg.payload[i] !== want[i]) return `payload byte ${from + i} changed`;
  }
  if (seg.l4ChecksumOk === false) return "the segment's TCP checksum does not verify";
  return null;
}

/**
 * What the director changed in the client's packet beyond TTL and checksums, or null:
 * one inner packet byte for byte, or its TCP segments (each a slice of its payload).
 */
export function innerFault(arrived: Packet, parts: readonly TunnelPacket[]): string | null {
  if (parts.length === 1) return wholeFault(arrived, parts[0].inner!);
  for (const t of parts) {
    const f = segmentFault(arrived, t.inner!);
    if (f) return `segment at seq ${t.inner!.tcp!.seq}: ${f}`;
  }
  return null;
}
