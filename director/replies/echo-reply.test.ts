// writeEchoReply: reply fields against the request, reference checksums (incremental and
// full paths, incl. the ±0 boundary), refusals, and 10k mutated inputs.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { PacketError, PacketView } from "../packet/packet.ts";
import { buildPacket, IP, put16, Rng, u16 } from "../packet/test-support.ts";
import { writeEchoReply } from "./echo-reply.ts";
import {
  CLIENT,
  mutate,
  refChecksum,
  refIcmpValid,
  refIpHeaderValid,
  VIP,
} from "./reply-test-support.ts";

const SEED = Number(process.env.PACKET_SEED ?? 0x504e47);

/** An echo request client → VIP with a valid checksum. */
function request(
  rng: Rng,
  payloadLen: number,
  ipOptionsLen = 0,
  src = CLIENT,
  dst = VIP,
  fragWord = 0,
): Uint8Array {
  const buf = buildPacket(rng, { proto: 1, payloadLen, ipOptionsLen, src, dst, fragWord });
  const icmp = IP + 20 + ipOptionsLen;
  buf[icmp] = 8;
  buf[icmp + 1] = 0;
  put16(buf, icmp + 2, refChecksum(buf, icmp, 8 + payloadLen, icmp + 2));
  return buf;
}

function reply(buf: Uint8Array, length = buf.length): number {
  const view = new PacketView();
  view.parse(buf, length);
  return writeEchoReply(view, buf);
}

function checkReply(buf: Uint8Array, n: number, orig: Uint8Array): void {
  const hl = (orig[IP]! & 15) * 4;
  const msgLen = u16(orig, IP + 2) - hl;
  assert.equal(n, 30 + msgLen);
  for (let i = 0; i < 10; i++) assert.equal(buf[i], 0);
  const v = new PacketView();
  assert.equal(v.parse(buf, n), PacketError.OK);
  assert.equal(v.ip.headerLength, 20);
  assert.equal(v.ip.totalLength, 20 + msgLen);
  assert.equal(v.ip.tos, orig[IP + 1]);
  assert.equal(v.ip.flagsFragOffset, 0);
  assert.equal(v.ip.ttl, 64);
  assert.equal(v.ip.protocol, 1);
  assert.equal(v.ip.src, VIP);
  assert.equal(v.ip.dst, CLIENT);
  assert.ok(refIpHeaderValid(buf, IP));
  assert.equal(v.icmp.type, 0);
  assert.equal(v.icmp.code, 0);
  // Identifier, sequence and data unchanged.
  assert.deepEqual(buf.subarray(34, 30 + msgLen), orig.subarray(IP + hl + 4, IP + hl + msgLen));
  assert.ok(refIcmpValid(buf, IP), "ICMP checksum");
}

describe("writeEchoReply", () => {
  const rng = new Rng(SEED);

  it("turns a request into a reply, dropping IP options", () => {
    for (const opts of [0, 4, 40]) {
      const buf = request(rng, 56, opts);
      const orig = buf.slice();
      checkReply(buf, reply(buf), orig);
    }
  });

  it("keeps the checksum valid at the ±0 boundary and on 2000 random requests", () => {
    // Requests whose checksum field is 0x0000 / 0xffff-equivalent: search payloads for them.
    let boundary = 0;
    for (let i = 0; i < 200_000 && boundary < 4; i++) {
      const buf = request(rng, 2);
      const c = u16(buf, IP + 22);
      if (c !== 0 && c !== 0xffff && c !== 0x0800 && c !== 0xf7ff) continue;
      boundary++;
      const orig = buf.slice();
      checkReply(buf, reply(buf), orig);
    }
    assert.ok(boundary > 0, "found boundary cases");
    for (let i = 0; i < 2000; i++) {
      const buf = request(rng, rng.int(1500), 4 * rng.int(11));
      buf[IP + 1] = rng.int(256);
      put16(buf, IP + 10, refChecksum(buf, IP, (buf[IP]! & 15) * 4, IP + 10));
      const orig = buf.slice();
      checkReply(buf, reply(buf), orig);
    }
  });

  it("computes the full checksum for a NEEDS_CSUM request", () => {
    const buf = request(rng, 100);
    buf[0] = 1;
    put16(buf, IP + 22, 0x1234); // a partial sum, not a valid checksum
    const orig = buf.slice();
    checkReply(buf, reply(buf), orig);
  });

  it("refuses bad checksums, non-requests, fragments and bad addresses", () => {
    const bad = request(rng, 20);
    bad[IP + 30] ^= 0x40;
    assert.equal(reply(bad), 0);
    const notEcho = request(rng, 20);
    notEcho[IP + 20] = 0;
    assert.equal(reply(notEcho), 0);
    assert.equal(reply(request(rng, 20, 0, CLIENT, VIP, 0x2000)), 0);
    assert.equal(reply(request(rng, 20, 0, CLIENT, VIP, 0x0003)), 0);
    for (const [s, d] of [[0, VIP], [0x7f000001, VIP], [0xe0000001, VIP], [CLIENT, 0xffffffff]]) {
      assert.equal(reply(request(rng, 20, 0, s, d)), 0);
    }
    const udp = buildPacket(rng, { proto: 17, payloadLen: 20, src: CLIENT, dst: VIP });
    assert.equal(reply(udp), 0);
  });

  it("survives 10k mutated inputs: 0 or a valid reply, never a throw", () => {
    let answered = 0;
    for (let i = 0; i < 10_000; i++) {
      const buf = request(rng, rng.int(300), 4 * rng.int(3));
      const length = mutate(rng, buf, buf.length);
      // DATA_VALID (without NEEDS_CSUM) vouches for a checksum that mutation may have broken.
      const trusted = (buf[0]! & 3) === 2;
      const n = reply(buf, length);
      if (n === 0) continue;
      answered++;
      const v = new PacketView();
      assert.equal(v.parse(buf, n), PacketError.OK);
      assert.equal(v.icmp.type, 0);
      assert.ok(refIpHeaderValid(buf, IP));
      if (!trusted) assert.ok(refIcmpValid(buf, IP));
    }
    assert.ok(answered > 500, `answered ${answered}`);
  });
});
