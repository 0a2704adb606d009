// Test helpers for the application helpers (not used by the director): TCP segments with a
// given text payload, sequence numbers, flags and SACK blocks, in a buffer with room to
// grow, and checksum checks by full recomputation with the packet folder's reference code.
import assert from "node:assert/strict";
import { PacketView } from "../packet/packet.ts";
import {
  get32,
  IP,
  put16,
  put32,
  refFold,
  refIpChecksum,
  refL4Sum,
  words,
} from "../packet/test-support.ts";

export interface SegmentOptions {
  src: number;
  dst: number;
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  /** TCP flags byte; default ACK|PSH. */
  flags?: number;
  payload?: string;
  /** SACK blocks [left, right] (at most 4), written after two NOPs. */
  sack?: [number, number][];
  /** Put the SACK option at an odd offset (one NOP before it instead of two). */
  oddSack?: boolean;
  /** Leave the checksum as the pseudo-header sum (vnet NEEDS_CSUM). */
  partial?: boolean;
  /** Spare bytes after the packet (the TUN buffer is larger than any packet). */
  room?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Builds a TUN buffer (vnet header + IPv4 + TCP + payload) with correct checksums. */
export function segment(o: SegmentOptions): Uint8Array {
  const payload = encoder.encode(o.payload ?? "");
  let optLen = 0;
  if (o.sack && o.sack.length > 0) {
    optLen = (o.oddSack ? 1 : 2) + 2 + 8 * o.sack.length;
    optLen = (optLen + 3) & ~3;
  }
  const tcpHl = 20 + optLen;
  const total = 20 + tcpHl + payload.length;
  const buf = new Uint8Array(IP + total + (o.room ?? 128));
  buf[IP] = 0x45;
  put16(buf, IP + 2, total);
  put16(buf, IP + 4, 0x1234);
  put16(buf, IP + 6, 0x4000);
  buf[IP + 8] = 64;
  buf[IP + 9] = 6;
  put32(buf, IP + 12, o.src);
  put32(buf, IP + 16, o.dst);
  put16(buf, IP + 10, refIpChecksum(buf));
  const l4 = IP + 20;
  put16(buf, l4, o.sport);
  put16(buf, l4 + 2, o.dport);
  put32(buf, l4 + 4, o.seq >>> 0);
  put32(buf, l4 + 8, (o.ack ?? 0) >>> 0);
  buf[l4 + 12] = (tcpHl / 4) << 4;
  buf[l4 + 13] = o.flags ?? 0x18;
  put16(buf, l4 + 14, 0xfaf0);
  if (o.sack && o.sack.length > 0) {
    let i = l4 + 20;
    buf[i++] = 1;
    if (!o.oddSack) buf[i++] = 1;
    buf[i++] = 5;
    buf[i++] = 2 + 8 * o.sack.length;
    for (const [left, right] of o.sack) {
      put32(buf, i, left >>> 0);
      put32(buf, i + 4, right >>> 0);
      i += 8;
    }
    while (i < l4 + tcpHl) buf[i++] = 0; // EOL padding
  }
  buf.set(payload, l4 + tcpHl);
  const l4len = tcpHl + payload.length;
  if (o.partial) {
    buf[0] = 1; // NEEDS_CSUM
    put16(buf, 6, 20);
    put16(buf, 8, 16);
    put16(buf, l4 + 16, refFold([...words(buf, IP + 12, 8), 6, l4len]));
  } else {
    put16(buf, l4 + 16, ~refL4Sum(buf, l4 + 16, l4len) & 0xffff);
  }
  return buf;
}

/** The packet's fields as the tests look at them. */
export interface Seen {
  src: number;
  dst: number;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  payload: string;
  sack: [number, number][];
  length: number;
}

/** Parses buf (as the engine left it) and checks both checksums by full recomputation. */
export function inspect(buf: Uint8Array, length?: number): Seen {
  const view = new PacketView();
  assert.equal(view.parse(buf, length ?? buf.length), 0, "packet parses");
  const ip = view.ip;
  const tcp = view.tcp;
  assert.equal(ip.checksum, refIpChecksum(buf), "IP header checksum");
  const l4 = ip.l4Offset;
  const l4len = ip.l4Length;
  if (view.vnet.needsCsum) {
    const pseudo = refFold([...words(buf, IP + 12, 8), 6, l4len]);
    assert.equal(tcp.checksum, pseudo, "partial (pseudo-header) sum");
  } else {
    assert.equal(tcp.checksum, ~refL4Sum(buf, l4 + 16, l4len) & 0xffff, "TCP checksum");
  }
  const sack: [number, number][] = [];
  const optEnd = l4 + tcp.headerLength;
  for (let i = l4 + 20; i < optEnd;) {
    const kind = buf[i];
    if (kind === 0) break;
    if (kind === 1) {
      i++;
      continue;
    }
    const len = buf[i + 1];
    if (kind === 5) {
      for (let b = i + 2; b + 8 <= i + len; b += 8) sack.push([get32(buf, b), get32(buf, b + 4)]);
    }
    i += len;
  }
  return {
    src: ip.src,
    dst: ip.dst,
    sport: tcp.srcPort,
    dport: tcp.dstPort,
    seq: tcp.seq,
    ack: tcp.ack,
    payload: decoder.decode(buf.subarray(tcp.payloadOffset, view.packetEnd)),
    sack,
    length: view.packetEnd,
  };
}

/** A PacketView bound to buf (asserting it parses). */
export function viewOf(buf: Uint8Array, length?: number): PacketView {
  const view = new PacketView();
  assert.equal(view.parse(buf, length ?? buf.length), 0, "packet parses");
  return view;
}
