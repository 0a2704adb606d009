import { test } from "node:test";
import assert from "node:assert/strict";
import { buildIpv4, decodeRecords, ethernetFrame, type PacketSpec } from "./test-support.ts";
import { buildTunnel, TUN_CLIENT, TUN_DIRECTOR, TUN_SERVERS, TUN_VIP } from "./tun-test-support.ts";
import { decodeTunnel, tunnelLabel } from "./tunnel-decode.ts";
import { traceTunnel } from "./tun-path.ts";
import { innerFault } from "./tun-compare.ts";
import type { Packet } from "./packet.ts";

const one = (b: Uint8Array, time = 1): Packet =>
  decodeRecords([{ time, data: ethernetFrame(b) }])[0];

const INNER: PacketSpec = {
  protocol: "tcp",
  src: TUN_CLIENT,
  srcPort: 40000,
  dst: TUN_VIP,
  dstPort: 80,
  flags: "S",
  seq: 7,
  ttl: 62,
};

test("IPIP, GUE and GRE packets decode to their inner packet", () => {
  for (const type of ["ipip", "gue", "gre"] as const) {
    for (const checksum of [false, true]) {
      const b = buildTunnel(buildIpv4(INNER), { type, checksum, dst: TUN_SERVERS.rs1, ttl: 62 });
      const t = decodeTunnel(one(b), TUN_DIRECTOR);
      assert.ok(t, `${type} decodes`);
      assert.equal(t.type, type);
      assert.equal(t.fault, null);
      assert.equal(t.inner?.src, TUN_CLIENT);
      assert.equal(t.inner?.tcp?.seq, 7);
      assert.equal(t.inner?.l4ChecksumOk, true);
      assert.equal(t.checksum, checksum && type !== "ipip" ? "ok" : "none");
      if (type === "gue") assert.equal(t.port, 6080);
    }
  }
  const gre = buildTunnel(buildIpv4(INNER), { type: "gre", dst: TUN_SERVERS.rs1, ttl: 62 });
  assert.equal(tunnelLabel(decodeTunnel(one(gre))!), "GRE");
});

test("a GRE header with a key or another protocol is a fault", () => {
  const key = buildTunnel(buildIpv4(INNER), {
    type: "gre",
    dst: TUN_SERVERS.rs1,
    ttl: 62,
    mangle: (b) => (b[20] = 0x20),
  });
  assert.match(decodeTunnel(one(key))!.fault ?? "", /GRE flags 0x2000/);
  const ipv6 = buildTunnel(buildIpv4(INNER), {
    type: "gre",
    dst: TUN_SERVERS.rs1,
    ttl: 62,
    mangle: (b) => (b[22] = 0x86),
  });
  assert.match(decodeTunnel(one(ipv6))!.fault ?? "", /GRE protocol 0x8600/);
});

test("a plain UDP packet from elsewhere is no GUE packet", () => {
  const udp = buildIpv4({
    protocol: "udp",
    src: "172.16.1.9",
    dst: TUN_SERVERS.rs1,
    dstPort: 6080,
  });
  assert.equal(decodeTunnel(one(udp), TUN_DIRECTOR), null);
});

/** A 3000-byte client packet the director cut into two 1500-byte segments. */
function superPacket(change?: (seg2: PacketSpec) => PacketSpec) {
  const data = new Uint8Array(3000).map((_, i) => i & 0xff);
  const big: PacketSpec = { ...INNER, flags: "P.", seq: 100, ack: 9, payload: data, ttl: 63 };
  const seg1: PacketSpec = { ...big, flags: ".", payload: data.subarray(0, 1500), ttl: 62 };
  let seg2: PacketSpec = { ...big, seq: 1600, payload: data.subarray(1500), ttl: 62, ipId: 1 };
  if (change) seg2 = change(seg2);
  const pub = one(buildIpv4({ ...big, ttl: 64 }), 1);
  const arrived = one(buildIpv4(big), 1.0001);
  const left = [seg1, seg2].map((s, i) =>
    one(
      buildTunnel(buildIpv4(s), { type: "ipip", dst: TUN_SERVERS.rs1, ttl: 62 }),
      1.0002 + i / 1e4,
    )
  );
  return traceTunnel([pub], [arrived, ...left], new Map(), {
    director: TUN_DIRECTOR,
    servers: new Map([[TUN_SERVERS.rs1, "rs1"]]),
  }, { vips: new Set([TUN_VIP]) });
}

test("segments of a super-packet are paired with it by sequence ranges", () => {
  const path = superPacket();
  assert.equal(path.hops[0].left.length, 2);
  assert.equal(path.strayLeft.length, 0);
  assert.equal(innerFault(path.hops[0].arrived!, path.hops[0].left), null);
});

test("a changed byte in a segment is found", () => {
  const path = superPacket((s) => {
    const payload = new Uint8Array(s.payload as Uint8Array);
    payload[10] ^= 1;
    return { ...s, payload };
  });
  assert.equal(path.hops[0].left.length, 2);
  assert.match(innerFault(path.hops[0].arrived!, path.hops[0].left) ?? "", /payload byte 1510/);
});
