// TcpMerger: which segments merge into one super-packet and which are written alone, the
// super-packet's header fields and vnet header, and its TCP checksum (checked here by summing
// every byte, as the kernel will), including the case of a corrupted segment.
import { test } from "node:test";
import assert from "node:assert/strict";
import { internetChecksum, pseudoHeaderSum } from "../../director/packet/checksum.ts";
import { parseIPv4 } from "../../director/net/ipv4-address.ts";
import { VNET_HDR_LEN } from "../../director/packet/vnet-header.ts";
import { MERGE_AREA_SIZE, TcpMerger, VIRTIO_NET_HDR_GSO_TCPV4 } from "./tcp-merge.ts";
import { icmpEcho, tcpSegment, type TcpSegmentOptions } from "./test-packets.ts";

const CLIENT = "198.51.100.2";
const VIP = "203.0.113.5";
const SLOT = 70_000;
/** Where each packet sits in its slot: room for a vnet header before it, as after IPIP. */
const INNER_AT = 20;
const TIMESTAMP = Uint8Array.of(1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9);

interface Written {
  vnet: Uint8Array;
  packet: Uint8Array;
}

function payload(n: number, seed: number): Uint8Array {
  const p = new Uint8Array(n);
  for (let i = 0; i < n; i++) p[i] = (i * 7 + seed * 13) & 0xff;
  return p;
}

/** Segments of one flow: each payload size in turn, seq contiguous from 1000. */
function flow(sizes: number[], o: Partial<TcpSegmentOptions> = {}, sport = 40000): Uint8Array[] {
  let seq = 1000;
  return sizes.map((n, k) => {
    const seg = tcpSegment(CLIENT, VIP, sport, 80, payload(n, k), { ...o, seq });
    seq += n;
    return seg;
  });
}

/** Runs the packets through one merger as one batch; returns what was written. */
function run(pkts: Uint8Array[], writeOk = true): { out: Written[]; merger: TcpMerger } {
  const memory = new Uint8Array(pkts.length * SLOT + MERGE_AREA_SIZE);
  const out: Written[] = [];
  const merger = new TcpMerger(memory.subarray(pkts.length * SLOT), (buf, count) => {
    out.push({
      vnet: buf.slice(0, VNET_HDR_LEN),
      packet: buf.slice(VNET_HDR_LEN, count),
    });
    return writeOk ? count : -1;
  });
  pkts.forEach((p, i) => {
    memory.set(p, i * SLOT + INNER_AT);
    merger.add(i * SLOT + INNER_AT, p.length);
  });
  merger.flush();
  return { out, merger };
}

const u16 = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;
const le16 = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8);

/** Full verification of a TCP/IPv4 packet's checksums, every byte summed. */
function checksumsValid(p: Uint8Array): boolean {
  if (internetChecksum(p, 0, 20) !== 0) return false;
  const pseudo = pseudoHeaderSum(parseIPv4(CLIENT)!, parseIPv4(VIP)!, 6, p.length - 20);
  return internetChecksum(p, 20, p.length - 20, pseudo) === 0;
}

function isZeroVnet(w: Written): boolean {
  return w.vnet.every((b) => b === 0);
}

test("a flow's full-sized segments become one super-packet with a GSO TCPV4 vnet header", () => {
  const segs = flow([1448, 1448, 1448, 1448, 700], { options: TIMESTAMP });
  const { out, merger } = run(segs);
  assert.equal(out.length, 1);
  const { vnet, packet } = out[0]!;
  const thl = 20 + TIMESTAMP.length;
  const total = 20 + thl + 4 * 1448 + 700;
  assert.equal(vnet[0], 0, "flags: no NEEDS_CSUM, the kernel verifies");
  assert.equal(vnet[1], VIRTIO_NET_HDR_GSO_TCPV4);
  assert.equal(le16(vnet, 2), 20 + thl, "hdr_len");
  assert.equal(le16(vnet, 4), 1448, "gso_size");
  assert.equal(le16(vnet, 6), 0);
  assert.equal(le16(vnet, 8), 0);
  assert.equal(packet.length, total);
  assert.equal(u16(packet, 2), total, "IP total length");
  assert.equal(u16(packet, 4), u16(segs[0]!, 4), "the first segment's IP ID");
  assert.ok(checksumsValid(packet), "IP and TCP checksums over the whole super-packet");
  // Header of the first segment, payloads in order.
  assert.deepEqual(packet.subarray(20, 20 + 16), segs[0]!.subarray(20, 36));
  let at = 20 + thl;
  for (const s of segs) {
    const body = s.subarray(20 + thl);
    assert.deepEqual(packet.subarray(at, at + body.length), body);
    at += body.length;
  }
  assert.equal(merger.superPackets, 1);
  assert.equal(merger.mergedSegments, 5);
  assert.equal(merger.writes, 1);
});

test("an odd MSS: payloads at odd offsets still give a valid checksum", () => {
  const { out } = run(flow([1001, 1001, 1001, 999]));
  assert.equal(out.length, 1);
  assert.equal(le16(out[0]!.vnet, 4), 1001);
  assert.ok(checksumsValid(out[0]!.packet));
});

test("PSH ends a merge after its segment and is kept in the super-packet", () => {
  const segs = flow([1000, 1000, 1000, 1000]);
  // Segment 1 has PSH: 0+1 merge, 2+3 merge.
  const psh = tcpSegment(CLIENT, VIP, 40000, 80, payload(1000, 1), { seq: 2000, flags: 0x18 });
  const { out } = run([segs[0]!, psh, segs[2]!, segs[3]!]);
  assert.equal(out.length, 2);
  assert.equal(out[0]!.packet[20 + 13], 0x18);
  assert.equal(out[0]!.packet.length, 20 + 20 + 2000);
  assert.equal(out[1]!.packet[20 + 13], 0x10);
  for (const w of out) assert.ok(checksumsValid(w.packet));
});

test("a segment shorter than the first ends the merge; a longer one starts anew", () => {
  const { out } = run(flow([1000, 500, 1000, 1200, 1200]));
  assert.deepEqual(out.map((w) => w.packet.length - 40), [1500, 1000, 2400]);
  assert.ok(isZeroVnet(out[1]!), "a lone segment is written as it is");
  assert.deepEqual(out[1]!.packet, flow([1000, 500, 1000])[2]);
});

test("never merged: other flow, seq gap, flags, differing fields, no payload", () => {
  const base = (o: Partial<TcpSegmentOptions>, sport = 40000, seq = 2000, n = 1000) =>
    tcpSegment(CLIENT, VIP, sport, 80, payload(n, 1), { seq, ...o });
  const first = () => flow([1000])[0]!;
  const cases: [string, Uint8Array][] = [
    ["other source port", base({}, 40001)],
    ["seq gap", base({}, 40000, 2001)],
    ["FIN", base({ flags: 0x11 })],
    ["SYN", base({ flags: 0x12 })],
    ["RST", base({ flags: 0x14 })],
    ["URG", base({ flags: 0x30 })],
    ["ECE", base({ flags: 0x50 })],
    ["CWR", base({ flags: 0x90 })],
    ["other ack", base({ ack: 1 })],
    ["other window", base({ window: 503 })],
    ["other options", base({ options: TIMESTAMP })],
    ["other TOS", base({ tos: 4 })],
    ["other TTL", base({ ttl: 63 })],
    ["no payload", base({}, 40000, 2000, 0)],
  ];
  for (const [what, second] of cases) {
    const { out, merger } = run([first(), second]);
    assert.equal(out.length, 2, what);
    assert.ok(out.every(isZeroVnet), `${what}: both written as they are`);
    assert.deepEqual(out[1]!.packet, second, what);
    assert.equal(merger.superPackets, 0, what);
  }
  // Same timestamp layout but another value: option bytes must be identical.
  const ts2 = TIMESTAMP.slice();
  ts2[7] = 8;
  const { out } = run([flow([1000], { options: TIMESTAMP })[0]!, base({ options: ts2 })]);
  assert.equal(out.length, 2, "timestamp value differs");
});

test("not TCP, or an IP fragment: written alone, and the pending merge before it", () => {
  const segs = flow([1000, 1000, 1000]);
  const echo = icmpEcho(CLIENT, VIP, 1, 1);
  const { out } = run([segs[0]!, segs[1]!, echo, segs[2]!]);
  assert.deepEqual(out.map((w) => w.packet.length), [2040, echo.length, 1040]);
  assert.deepEqual(out[1]!.packet, echo);
  const frag = flow([1000, 1000]);
  frag[1]![6] = 0x20; // MF
  assert.equal(run(frag).out.length, 2);
});

test("interleaved flows merge per run of one flow, order kept", () => {
  const a = flow([1000, 1000, 1000], {}, 40000);
  const b = flow([1000, 1000], {}, 40001);
  const { out } = run([a[0]!, a[1]!, b[0]!, b[1]!, a[2]!]);
  assert.deepEqual(out.map((w) => [u16(w.packet, 20), w.packet.length - 40]), [
    [40000, 2000],
    [40001, 2000],
    [40000, 1000],
  ]);
});

test("the super-packet stays within 65535 bytes", () => {
  const { out } = run(flow(new Array(50).fill(1448)));
  const lengths = out.map((w) => w.packet.length);
  assert.ok(lengths.every((n) => n <= 65535), `${lengths}`);
  assert.equal(lengths[0], 40 + 45 * 1448);
  assert.equal(lengths.reduce((s, n) => s + n - 40, 0), 50 * 1448);
  for (const w of out) assert.ok(checksumsValid(w.packet));
});

test("a corrupted segment makes the super-packet's checksum fail (nothing laundered)", () => {
  const segs = flow([1000, 1000, 1000]);
  segs[1]![20 + 20 + 500] ^= 0x01; // a payload bit flipped after the sender's checksum
  const { out } = run(segs);
  assert.equal(out.length, 1);
  assert.ok(!checksumsValid(out[0]!.packet), "the kernel will drop it");
  assert.ok(internetChecksum(out[0]!.packet, 0, 20) === 0, "the IP header is fine");
});

test("a failed write counts every packet it held", () => {
  const { merger } = run(flow([1000, 1000, 1000]), false);
  assert.equal(merger.failedPackets, 3);
  assert.equal(merger.writes, 1);
});
