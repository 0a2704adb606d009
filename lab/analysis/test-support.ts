// Test helpers (not used by the lab itself): build IPv4 packets with correct (or deliberately
// wrong) checksums and write them into pcap files. The checksums come from the packet folder's
// naive reference sum, which shares no code with lab/analysis/checksum.ts.
import fs from "node:fs";
import { refFold, words } from "../../director/packet/test-support.ts";
import { parseIPv4 } from "../../director/net/ipv4-address.ts";
import { IPPROTO_TCP, IPPROTO_UDP } from "../../director/packet/ipv4.ts";
import { decodeFrame, LINKTYPE_ETHERNET } from "./decode.ts";
import type { Packet } from "./packet.ts";

export interface PacketSpec {
  src: string;
  dst: string;
  protocol: "tcp" | "udp" | "icmp";
  srcPort?: number;
  dstPort?: number;
  ipId?: number;
  ttl?: number;
  /** Don't-fragment bit (default true). */
  df?: boolean;
  mf?: boolean;
  /** Fragment offset in bytes (multiple of 8); > 0 makes the body raw fragment data. */
  fragmentOffset?: number;
  /** TCP: tcpdump-style flags, e.g. "S", "S.", ".", "P.", "F.", "R", "R." (default "."). */
  flags?: string;
  seq?: number;
  ack?: number;
  payload?: Uint8Array | string;
  icmpType?: number;
  icmpCode?: number;
  /** ICMP bytes 4-7 (echo id/sequence, unused for errors). */
  icmpRest?: number;
  /** UDP sent without checksum (0). */
  udpNoChecksum?: boolean;
  badIpChecksum?: boolean;
  badL4Checksum?: boolean;
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

function put32(b: Uint8Array, at: number, v: number): void {
  put16(b, at, Math.floor(v / 0x10000) & 0xffff);
  put16(b, at + 2, v & 0xffff);
}

function putAddr(b: Uint8Array, at: number, text: string): void {
  const a = parseIPv4(text);
  if (a === null) throw new Error(`bad address ${text}`);
  put32(b, at, a);
}

function flagBits(text: string): number {
  let f = 0;
  for (const c of text) {
    f |= c === "F" ? 1 : c === "S" ? 2 : c === "R" ? 4 : c === "P" ? 8 : c === "." ? 16 : 0;
  }
  return f;
}

/** An IPv4 packet (no link header) as described; checksums correct unless asked otherwise. */
export function buildIpv4(spec: PacketSpec): Uint8Array {
  const payload = typeof spec.payload === "string"
    ? new TextEncoder().encode(spec.payload)
    : spec.payload ?? new Uint8Array(0);
  const fragment = (spec.fragmentOffset ?? 0) > 0;
  const proto = spec.protocol === "tcp" ? 6 : spec.protocol === "udp" ? 17 : 1;
  const l4Header = fragment ? 0 : proto === IPPROTO_TCP ? 20 : 8;
  const l4Length = l4Header + payload.length;
  const b = new Uint8Array(20 + l4Length);
  b[0] = 0x45;
  put16(b, 2, b.length);
  put16(b, 4, spec.ipId ?? 0);
  put16(
    b,
    6,
    ((spec.df ?? true) ? 0x4000 : 0) | (spec.mf ? 0x2000 : 0) | ((spec.fragmentOffset ?? 0) / 8),
  );
  b[8] = spec.ttl ?? 64;
  b[9] = proto;
  putAddr(b, 12, spec.src);
  putAddr(b, 16, spec.dst);
  b.set(payload, 20 + l4Header);
  put16(b, 10, ~refFold(words(b, 0, 20)) & 0xffff);
  if (spec.badIpChecksum) put16(b, 10, (b[10] * 256 + b[11]) ^ 0x0101);
  if (fragment) return b;
  const l4 = 20;
  let csumAt: number;
  if (proto === IPPROTO_TCP) {
    put16(b, l4, spec.srcPort ?? 0);
    put16(b, l4 + 2, spec.dstPort ?? 0);
    put32(b, l4 + 4, spec.seq ?? 0);
    put32(b, l4 + 8, spec.ack ?? 0);
    b[l4 + 12] = 5 << 4;
    b[l4 + 13] = flagBits(spec.flags ?? ".");
    put16(b, l4 + 14, 64240);
    csumAt = l4 + 16;
  } else if (proto === IPPROTO_UDP) {
    put16(b, l4, spec.srcPort ?? 0);
    put16(b, l4 + 2, spec.dstPort ?? 0);
    put16(b, l4 + 4, l4Length);
    csumAt = l4 + 6;
  } else {
    b[l4] = spec.icmpType ?? 8;
    b[l4 + 1] = spec.icmpCode ?? 0;
    put32(b, l4 + 4, spec.icmpRest ?? 0);
    csumAt = l4 + 2;
  }
  if (proto === IPPROTO_UDP && spec.udpNoChecksum) return b;
  // Whole datagram: a first fragment's checksum covers data the packet does not carry, so
  // build the packet first and let callers cut it.
  const segment = words(b, l4, l4Length);
  let sum = proto === 1
    ? ~refFold(segment) & 0xffff
    : ~refFold([...words(b, 12, 8), proto, l4Length, ...segment]) & 0xffff;
  if (proto === IPPROTO_UDP && sum === 0) sum = 0xffff;
  put16(b, csumAt, sum);
  if (spec.badL4Checksum) put16(b, csumAt, sum ^ 0x0001);
  return b;
}

/** ICMP error (type/code) from `src` to `dst` quoting the first 28 bytes of `offending`. */
export function buildIcmpError(
  src: string,
  dst: string,
  type: number,
  code: number,
  offending: Uint8Array,
  ipId = 0,
): Uint8Array {
  return buildIpv4({
    src,
    dst,
    protocol: "icmp",
    icmpType: type,
    icmpCode: code,
    ipId,
    payload: offending.subarray(0, 28),
  });
}

function macBytes(text: string): number[] {
  return text.split(":").map((x) => parseInt(x, 16));
}

/**
 * Prepends an Ethernet header (IPv4 ethertype); MACs "02:00:00:00:00:01" (destination) and
 * "…:02" (source) unless given.
 */
export function ethernetFrame(
  ip: Uint8Array,
  macs: { src: string; dst: string } = { src: "02:00:00:00:00:02", dst: "02:00:00:00:00:01" },
): Uint8Array {
  const f = new Uint8Array(14 + ip.length);
  f.set([...macBytes(macs.dst), ...macBytes(macs.src), 0x08, 0x00]);
  f.set(ip, 14);
  return f;
}

export interface PcapRecord {
  /** Seconds since the epoch. */
  time: number;
  data: Uint8Array;
  /** Length on the wire when larger than data (a truncated capture). */
  originalLength?: number;
}

/** Writes a little-endian pcap 2.4 file. */
export function writePcap(path: string, linkType: number, records: readonly PcapRecord[]): void {
  const size = 24 + records.reduce((n, r) => n + 16 + r.data.length, 0);
  const out = Buffer.alloc(size);
  out.writeUInt32LE(0xa1b2c3d4, 0);
  out.writeUInt16LE(2, 4);
  out.writeUInt16LE(4, 6);
  out.writeInt32LE(0, 8);
  out.writeUInt32LE(0, 12);
  out.writeUInt32LE(262144, 16);
  out.writeUInt32LE(linkType, 20);
  let at = 24;
  for (const r of records) {
    const seconds = Math.floor(r.time);
    out.writeUInt32LE(seconds, at);
    out.writeUInt32LE(Math.round((r.time - seconds) * 1e6), at + 4);
    out.writeUInt32LE(r.data.length, at + 8);
    out.writeUInt32LE(r.originalLength ?? r.data.length, at + 12);
    out.set(r.data, at + 16);
    at += 16 + r.data.length;
  }
  fs.writeFileSync(path, out);
}

export type Segment = "public" | "private";

export interface NatConnectionSpec {
  client: string;
  clientPort: number;
  vip: string;
  vport: number;
  server: string;
  serverPort: number;
  /** Time of the SYN on the client network (seconds). */
  t0: number;
  /** First IP id the client uses (the server uses ipId + 1000). */
  ipId?: number;
  clientIsn?: number;
  serverIsn?: number;
  request?: string;
  response?: string;
  /** Changes a packet before it is built: inject faults (wrong address, bad checksum). */
  tamper?: (spec: PacketSpec, segment: Segment, index: number) => PacketSpec;
  /** Leave the handshake unanswered (no SYN-ACK, nothing after the SYN). */
  unanswered?: boolean;
  /** Answer the SYN with a RST from VIP:vport on the client network (refused by the director). */
  refused?: boolean;
}

export interface Conversation {
  public: PcapRecord[];
  private: PcapRecord[];
}

/**
 * One TCP connection through a VS/NAT director as captured on both networks: handshake,
 * request, response, close. Each packet appears on both networks 0.2 ms apart with the
 * NAT rewrite applied (destination on the way in, source on the way out).
 */
export function natConnection(c: NatConnectionSpec): Conversation {
  const out: Conversation = { public: [], private: [] };
  const cIsn = c.clientIsn ?? 1000;
  const sIsn = c.serverIsn ?? 5000;
  const req = c.request ?? "GET / HTTP/1.1\r\n\r\n";
  const resp = c.response ?? "HTTP/1.1 200 OK\r\n\r\nhello";
  let cId = c.ipId ?? 100;
  let sId = (c.ipId ?? 100) + 1000;
  let t = c.t0;
  let n = 0;
  const emit = (fromClient: boolean, flags: string, seq: number, ack: number, payload = "") => {
    const base = {
      protocol: "tcp" as const,
      flags,
      seq,
      ack,
      payload,
      ipId: fromClient ? cId++ : sId++,
    };
    const pub: PacketSpec = fromClient
      ? { ...base, src: c.client, srcPort: c.clientPort, dst: c.vip, dstPort: c.vport }
      : { ...base, src: c.vip, srcPort: c.vport, dst: c.client, dstPort: c.clientPort };
    const priv: PacketSpec = fromClient
      ? { ...base, src: c.client, srcPort: c.clientPort, dst: c.server, dstPort: c.serverPort }
      : { ...base, src: c.server, srcPort: c.serverPort, dst: c.client, dstPort: c.clientPort };
    const tamper = c.tamper ?? ((s: PacketSpec) => s);
    const i = n++;
    // In: public first, then private; out: private first.
    const [first, second]: [Segment, Segment] = fromClient
      ? ["public", "private"]
      : ["private", "public"];
    const spec = { public: pub, private: priv };
    out[first].push({ time: t, data: ethernetFrame(buildIpv4(tamper(spec[first], first, i))) });
    out[second].push({
      time: t + 0.0002,
      data: ethernetFrame(buildIpv4(tamper(spec[second], second, i))),
    });
    t += 0.001;
  };
  if (c.refused) {
    const syn = { protocol: "tcp" as const, flags: "S", seq: cIsn, ipId: cId };
    const tamper = c.tamper ?? ((s: PacketSpec) => s);
    out.public.push({
      time: t,
      data: ethernetFrame(buildIpv4(tamper(
        { ...syn, src: c.client, srcPort: c.clientPort, dst: c.vip, dstPort: c.vport },
        "public",
        0,
      ))),
    });
    out.public.push({
      time: t + 0.0001,
      data: ethernetFrame(buildIpv4({
        protocol: "tcp",
        flags: "R.",
        seq: 0,
        ack: cIsn + 1,
        src: c.vip,
        srcPort: c.vport,
        dst: c.client,
        dstPort: c.clientPort,
      })),
    });
    return out;
  }
  emit(true, "S", cIsn, 0);
  if (c.unanswered) return out;
  emitExchange(emit, cIsn, sIsn, req, resp, false);
  return out;
}

/** Emits one packet of a conversation: direction, TCP flags, seq, ack, payload. */
export type EmitSegment = (
  fromClient: boolean,
  flags: string,
  seq: number,
  ack: number,
  payload?: string,
) => void;

/**
 * A whole HTTP-like TCP conversation after the client's SYN (when `withSyn` is false) or
 * from it: SYN-ACK, ACK, request, response, both FINs, the last ACK.
 */
export function emitExchange(
  emit: EmitSegment,
  cIsn: number,
  sIsn: number,
  req: string,
  resp: string,
  withSyn = true,
): void {
  if (withSyn) emit(true, "S", cIsn, 0);
  emit(false, "S.", sIsn, cIsn + 1);
  emit(true, ".", cIsn + 1, sIsn + 1);
  emit(true, "P.", cIsn + 1, sIsn + 1, req);
  emit(false, "P.", sIsn + 1, cIsn + 1 + req.length, resp);
  emit(true, "F.", cIsn + 1 + req.length, sIsn + 1 + resp.length);
  emit(false, "F.", sIsn + 1 + resp.length, cIsn + 2 + req.length);
  emit(true, ".", cIsn + 2 + req.length, sIsn + 2 + resp.length);
}

/** Each real server's records of several captures together, in time order. */
export function mergeServerRecords(
  list: readonly { servers: Record<string, PcapRecord[]> }[],
): Record<string, PcapRecord[]> {
  const servers: Record<string, PcapRecord[]> = {};
  for (const c of list) {
    for (const [h, r] of Object.entries(c.servers)) servers[h] = [...(servers[h] ?? []), ...r];
  }
  for (const r of Object.values(servers)) r.sort((a, b) => a.time - b.time);
  return servers;
}

/** Concatenates conversations and sorts each network's records by time. */
export function mergeConversations(list: readonly Conversation[]): Conversation {
  const byTime = (a: PcapRecord, b: PcapRecord) => a.time - b.time;
  return {
    public: list.flatMap((c) => c.public).sort(byTime),
    private: list.flatMap((c) => c.private).sort(byTime),
  };
}

/** Decodes records in memory as readPcap would (frame numbers from 1). */
export function decodeRecords(
  records: readonly PcapRecord[],
  linkType = LINKTYPE_ETHERNET,
): Packet[] {
  const packets: Packet[] = [];
  records.forEach((r, i) => {
    const d = decodeFrame(linkType, r.data, {
      index: i + 1,
      time: r.time,
      originalLength: r.originalLength ?? r.data.length,
    });
    if ("packet" in d) packets.push(d.packet);
  });
  return packets;
}
