// VS/TUN on the engine with a fake raw socket: the outer header IPVS builds (source the
// director's address on the route, destination the server, TOS/TTL/DF from the inner), the
// GUE and GRE headers with their checksums, the inner packet byte for byte with complete
// checksums, a super-packet cut into the segments TCP would make, and the MTU rules.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  IP,
  put16,
  refFold,
  refIpChecksum,
  Rng,
  u16,
  VNET,
  words,
} from "../packet/test-support.ts";
import { refIpHeaderValid, refL4Valid } from "../replies/reply-test-support.ts";
import { ACK, CLIENT, RS1, SYN, tcpPacket, VIP } from "../engine/engine-test-support.ts";
import { DIP, segment, tunEngine } from "./tunnel-test-support.ts";

const u32 = (b: Uint8Array, at: number) => ((u16(b, at) << 16) | u16(b, at + 2)) >>> 0;

/** Checks the outer IPv4 header and returns where the inner packet starts. */
function checkOuter(pkt: Uint8Array, inner: Uint8Array, protocol: number): void {
  const padded = new Uint8Array(VNET + pkt.length);
  padded.set(pkt, IP);
  assert.equal(pkt[0], 0x45);
  assert.ok(refIpHeaderValid(pkt, 0), "outer header checksum");
  assert.equal(pkt[1], inner[1], "TOS copied");
  assert.equal(pkt[8], inner[8], "TTL copied");
  assert.equal(pkt[6]! & 0x40, inner[6]! & 0x40, "DF copied");
  assert.equal(pkt[9], protocol);
  assert.equal(u32(pkt, 12), DIP, "from the director's address on the route");
  assert.equal(u32(pkt, 16), RS1, "to the real server");
  assert.equal(u16(pkt, 2), pkt.length);
}

for (
  const [name, tunnel, protocol, offset] of [
    ["ipip", { type: "ipip", port: 0, checksum: "nocsum" }, 4, 20],
    ["gue", { type: "gue", port: 6080, checksum: "nocsum" }, 17, 32],
    ["gue csum", { type: "gue", port: 6080, checksum: "csum" }, 17, 32],
    ["gre", { type: "gre", port: 0, checksum: "nocsum" }, 47, 24],
    ["gre csum", { type: "gre", port: 0, checksum: "csum" }, 47, 28],
  ] as const
) {
  test(`TUN ${name}: the client's packet, as read, inside the outer headers IPVS builds`, () => {
    const { engine, socket } = tunEngine({ ...tunnel });
    const syn = segment(SYN, 20, 0x28);
    const original = syn.slice(IP);
    assert.equal(engine.process(syn, syn.length), 0);
    engine.tunnels.flush();
    assert.equal(socket.sent.length, 1);
    const [destination, pkt] = socket.sent[0]!;
    assert.equal(destination, RS1);
    checkOuter(pkt, original, protocol);
    assert.deepEqual([...pkt.subarray(offset)], [...original], "inner packet byte for byte");
    if (tunnel.type === "gue") {
      assert.equal(u16(pkt, 22), 6080, "to the GUE port");
      assert.ok(u16(pkt, 20) >= 32768 && u16(pkt, 20) <= 60999, "source port from the flow");
      assert.equal(u16(pkt, 24), pkt.length - 20, "UDP length");
      assert.deepEqual([...pkt.subarray(28, 32)], [0, 4, 0, 0], "GUE v0, proto IPIP");
      if (tunnel.checksum === "csum") assert.ok(refL4Valid(pkt, 0), "UDP checksum");
      else assert.equal(u16(pkt, 26), 0, "no UDP checksum");
    }
    if (tunnel.type === "gre") {
      assert.equal(u16(pkt, 20), tunnel.checksum === "csum" ? 0x8000 : 0, "flags");
      assert.equal(u16(pkt, 22), 0x0800, "protocol IPv4");
      if (tunnel.checksum === "csum") {
        assert.equal(refFold(words(pkt, 20, pkt.length - 20)), 0xffff, "GRE checksum");
      }
    }
  });
}

test("TUN: a super-packet leaves as the TCP segments it stands for, every checksum complete", () => {
  const { engine, socket } = tunEngine({ type: "ipip", port: 0, checksum: "nocsum" });
  const syn = segment(SYN);
  engine.process(syn, syn.length);
  const payload = 5000;
  const big = tcpPacket(new Rng(11), CLIENT, 4000, VIP, 80, ACK | 0x08 | 0x01, {
    payloadLen: payload,
    partial: true,
  });
  big[IP + 8] = 63;
  put16(big, IP + 10, refIpChecksum(big));
  big[1] = 1; // GSO_TCPV4
  big[4] = 1400 & 0xff; // segments of 1400 + 40 fit the 1480 left inside IPIP
  big[5] = 1400 >> 8;
  const seq = u32(big, IP + 20 + 4);
  assert.equal(engine.process(big, big.length), 0);
  engine.tunnels.flush();
  const segs = socket.sent.slice(1).map(([, p]) => p.subarray(20));
  assert.equal(segs.length, 4, "ceil(5000 / 1400) segments");
  let joined: number[] = [];
  segs.forEach((s, k) => {
    assert.ok(refIpHeaderValid(s, 0), `segment ${k} IP checksum`);
    assert.ok(refL4Valid(s, 0), `segment ${k} TCP checksum`);
    assert.equal(u32(s, 24), (seq + k * 1400) >>> 0, "sequence number");
    assert.equal(u16(s, 4), (u16(big, IP + 4) + k) & 0xffff, "IP id");
    const flags = s[33]!;
    assert.equal((flags & 0x09) !== 0, k === 3, "FIN and PSH on the last only");
    joined = joined.concat([...s.subarray(40)]);
  });
  assert.deepEqual(joined, [...big.subarray(IP + 40)], "the payload, in order, complete");
});

test("TUN: a DF packet too big with the tunnel's headers gets fragmentation needed (MTU − overhead)", () => {
  const { engine, socket } = tunEngine({ type: "gue", port: 6080, checksum: "nocsum" }, 1500);
  const syn = segment(SYN);
  engine.process(syn, syn.length);
  const packet = segment(ACK, 1460 - 20); // 1480 bytes of IP: fits 1500 alone, not with 32
  const buf = new Uint8Array(4096);
  buf.set(packet);
  const n = engine.process(buf, packet.length);
  assert.ok(n > 0);
  assert.equal(buf[IP + 20], 3);
  assert.equal(buf[IP + 21], 4);
  assert.equal(u16(buf, IP + 26), 1500 - 32, "the MTU left inside the tunnel");
  engine.tunnels.flush();
  assert.equal(socket.sent.length, 1, "only the SYN");
  assert.equal(engine.drops.toJSON()["frame-too-big"], 1);
});

test("TUN: a server without a route is counted, not sent", () => {
  const { engine, socket } = tunEngine({ type: "ipip", port: 0, checksum: "nocsum" }, 0, 0);
  const syn = segment(SYN);
  engine.process(syn, syn.length);
  engine.tunnels.flush();
  assert.equal(socket.sent.length, 0);
  assert.equal(engine.drops.toJSON()["tunnel-no-route"], 1);
});

test("TUN: a super-packet whose segments will not fit the tunnel gets fragmentation needed", () => {
  const { engine, socket } = tunEngine({ type: "ipip", port: 0, checksum: "nocsum" }, 1500);
  const syn = segment(SYN);
  engine.process(syn, syn.length);
  const big = tcpPacket(new Rng(12), CLIENT, 4000, VIP, 80, ACK, {
    payloadLen: 3000,
    partial: true,
  });
  big[1] = 1; // GSO_TCPV4, segments of 1448: 1488 bytes each, 8 more than IPIP leaves
  big[4] = 1448 & 0xff;
  big[5] = 1448 >> 8;
  const buf = new Uint8Array(8192);
  buf.set(big);
  assert.ok(engine.process(buf, big.length) > 0);
  assert.equal(u16(buf, IP + 26), 1480, "the client's TCP learns 1480 and cuts smaller");
  engine.tunnels.flush();
  assert.equal(socket.sent.length, 1);
});
