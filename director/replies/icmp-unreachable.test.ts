// writeIcmpError: the error's headers field by field, the quote byte for byte against a copy
// of the original, reference checksums, every refusal rule, and 10k mutated inputs.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { PacketError, PacketView } from "../packet/packet.ts";
import { buildPacket, IP, put16, Rng, u16 } from "../packet/test-support.ts";
import { ICMP_ERROR_MAX_QUOTE, writeIcmpError } from "./icmp-unreachable.ts";
import {
  CLIENT,
  mutate,
  refChecksum,
  refIcmpValid,
  refIpHeaderValid,
  VIP,
  withSlack,
} from "./reply-test-support.ts";

const SEED = Number(process.env.PACKET_SEED ?? 0x49434d);
const SLACK = 600;

function answer(
  buf: Uint8Array,
  length: number,
  type = 3,
  code = 3,
  info = 0,
): number {
  const view = new PacketView();
  view.parse(buf, length);
  return writeIcmpError(view, buf, type, code, VIP, info);
}

/** Checks the error in buf against `orig` (a copy of the original TUN buffer). */
function checkError(
  buf: Uint8Array,
  n: number,
  orig: Uint8Array,
  type: number,
  code: number,
  info = 0,
): void {
  const origTotal = u16(orig, IP + 2);
  const quote = Math.min(origTotal, 548);
  assert.equal(n, 10 + 20 + 8 + quote);
  for (let i = 0; i < 10; i++) assert.equal(buf[i], 0, `vnet byte ${i}`);
  const v = new PacketView();
  assert.equal(v.parse(buf, n), PacketError.OK);
  const ip = v.ip;
  assert.equal(ip.headerLength, 20);
  assert.equal(ip.totalLength, 28 + quote);
  assert.ok(ip.totalLength <= 576);
  assert.equal(ip.tos, (orig[IP + 1]! & 0x1e) | 0xc0);
  assert.equal(ip.flagsFragOffset, 0, "no DF, not a fragment");
  assert.equal(ip.ttl, 64);
  assert.equal(ip.protocol, 1);
  assert.equal(ip.src, VIP);
  assert.equal(ip.dst, u16(orig, IP + 12) * 0x10000 + u16(orig, IP + 14));
  assert.ok(refIpHeaderValid(buf, IP), "IP checksum");
  const icmp = v.icmp;
  assert.equal(icmp.type, type);
  assert.equal(icmp.code, code);
  assert.equal(icmp.restOfHeader, info >>> 0);
  assert.ok(refIcmpValid(buf, IP), "ICMP checksum");
  assert.equal(icmp.checksum, refChecksum(buf, 30, 8 + quote, 32));
  assert.deepEqual(buf.subarray(38, 38 + quote), orig.subarray(IP, IP + quote), "quote");
}

describe("writeIcmpError", () => {
  const rng = new Rng(SEED);

  it("answers a UDP datagram with port unreachable quoting all of a small one", () => {
    const buf = withSlack(
      buildPacket(rng, { proto: 17, payloadLen: 30, src: CLIENT, dst: VIP, dport: 53 }),
      SLACK,
    );
    const orig = buf.slice();
    const n = answer(buf, orig.length - SLACK);
    checkError(buf, n, orig, 3, 3);
  });

  it("quotes at most 548 bytes (576-byte reply) of a big one, options included", () => {
    for (const ipOptionsLen of [0, 20, 40]) {
      const buf = withSlack(
        buildPacket(rng, { proto: 17, payloadLen: 1400, ipOptionsLen, src: CLIENT, dst: VIP }),
        SLACK,
      );
      const orig = buf.slice();
      const n = answer(buf, orig.length - SLACK);
      checkError(buf, n, orig, 3, 3);
      assert.equal(n - 10, 576);
      assert.equal(ICMP_ERROR_MAX_QUOTE, 548);
    }
  });

  it("carries `info` in bytes 4..7 (next-hop MTU of fragmentation needed)", () => {
    const buf = withSlack(
      buildPacket(rng, { proto: 6, payloadLen: 1460, src: CLIENT, dst: VIP }),
      SLACK,
    );
    const orig = buf.slice();
    const n = answer(buf, orig.length - SLACK, 3, 4, 1400);
    checkError(buf, n, orig, 3, 4, 1400);
    assert.equal(u16(buf, 30 + 6), 1400);
  });

  it("answers any protocol (protocol unreachable for GRE) and ICMP info messages", () => {
    const gre = withSlack(
      buildPacket(rng, { proto: 17, payloadLen: 40, src: CLIENT, dst: VIP }),
      SLACK,
    );
    gre[IP + 9] = 47;
    put16(gre, IP + 10, refChecksum(gre, IP, 20, IP + 10));
    let orig = gre.slice();
    checkError(gre, answer(gre, orig.length - SLACK, 3, 2), orig, 3, 2);
    for (const type of [0, 8, 13, 14, 15, 16, 17, 18]) {
      const buf = withSlack(
        buildPacket(rng, { proto: 1, payloadLen: 20, src: CLIENT, dst: VIP }),
        SLACK,
      );
      buf[IP + 20] = type;
      orig = buf.slice();
      checkError(buf, answer(buf, orig.length - SLACK), orig, 3, 3);
    }
  });

  it("answers a first fragment, not a later one", () => {
    const first = withSlack(
      buildPacket(rng, { proto: 17, payloadLen: 100, src: CLIENT, dst: VIP, fragWord: 0x2000 }),
      SLACK,
    );
    const orig = first.slice();
    checkError(first, answer(first, orig.length - SLACK), orig, 3, 3);
    for (const fragWord of [0x2001, 0x0010, 0x3fff]) {
      const later = withSlack(
        buildPacket(rng, { proto: 17, payloadLen: 100, src: CLIENT, dst: VIP, fragWord }),
        SLACK,
      );
      const before = later.slice();
      assert.equal(answer(later, before.length - SLACK), 0);
      assert.deepEqual(later, before);
    }
  });

  it("never answers an ICMP error or unknown ICMP type", () => {
    for (const type of [1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 19, 42, 255]) {
      const buf = withSlack(
        buildPacket(rng, { proto: 1, payloadLen: 28, src: CLIENT, dst: VIP }),
        SLACK,
      );
      buf[IP + 20] = type;
      const before = buf.slice();
      assert.equal(answer(buf, before.length - SLACK), 0, `type ${type}`);
      assert.deepEqual(buf, before);
    }
  });

  it("never answers broadcast, multicast, 0/8 or loopback sources, or to multicast", () => {
    const cases: [number, number][] = [
      [0, VIP],
      [0x00000001, VIP],
      [0x7f000001, VIP],
      [0xe0000001, VIP],
      [0xefffffff, VIP],
      [0xf0000001, VIP],
      [0xffffffff, VIP],
      [CLIENT, 0xe00000fb],
      [CLIENT, 0xffffffff],
    ];
    for (const [src, dst] of cases) {
      const buf = withSlack(buildPacket(rng, { proto: 17, payloadLen: 10, src, dst }), SLACK);
      assert.equal(answer(buf, buf.length - SLACK), 0, `${src.toString(16)} → ${dst.toString(16)}`);
    }
  });

  it("shrinks the quote to the buffer, refuses when header + 8 bytes don't fit", () => {
    // Exact-size buffer: 100-byte IP packet, 28 bytes needed in front: quote 72.
    const pkt = buildPacket(rng, { proto: 17, payloadLen: 72, src: CLIENT, dst: VIP });
    const orig = pkt.slice();
    const n = answer(pkt, pkt.length);
    assert.equal(n, pkt.length);
    assert.equal(u16(pkt, IP + 2), 28 + 72);
    assert.ok(refIcmpValid(pkt, IP) && refIpHeaderValid(pkt, IP));
    assert.deepEqual(pkt.subarray(38), orig.subarray(IP, IP + 72));
    // 20 + 8 bytes of packet, no room at all: nothing fits.
    const tiny = buildPacket(rng, { proto: 17, payloadLen: 0, src: CLIENT, dst: VIP });
    assert.equal(answer(tiny, tiny.length), 0);
  });

  it("survives 10k mutated inputs: 0 or a valid error, never a throw", () => {
    let answered = 0;
    for (let i = 0; i < 10_000; i++) {
      const proto = ([6, 17, 1] as const)[rng.int(3)]!;
      const buf = withSlack(
        buildPacket(rng, {
          proto,
          payloadLen: rng.int(700),
          ipOptionsLen: 4 * rng.int(3),
          src: CLIENT,
          dst: VIP,
        }),
        rng.int(3) === 0 ? rng.int(40) : SLACK,
      );
      if (proto === 1) buf[IP + (buf[IP]! & 15) * 4] = 8;
      const length = mutate(rng, buf, u16(buf, IP + 2) + 10);
      const n = answer(buf, length, rng.int(256), rng.int(256), rng.u32());
      if (n === 0) continue;
      answered++;
      const v = new PacketView();
      assert.equal(v.parse(buf, n), PacketError.OK);
      assert.equal(v.ip.protocol, 1);
      assert.ok(v.ip.totalLength <= 576);
      assert.ok(refIpHeaderValid(buf, IP));
      assert.ok(refIcmpValid(buf, IP));
    }
    assert.ok(answered > 1000, `answered ${answered}`);
  });
});
