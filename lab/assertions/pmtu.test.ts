import { test } from "node:test";
import assert from "node:assert/strict";
import { groupConnections } from "../analysis/connections.ts";
import {
  buildIpv4,
  decodeRecords,
  ethernetFrame,
  type PacketSpec,
} from "../analysis/test-support.ts";
import { TUN_CLIENT, TUN_VIP } from "../analysis/tun-test-support.ts";
import { assertFragNeeded } from "./pmtu.ts";

const c = (over: Partial<PacketSpec>): PacketSpec => ({
  protocol: "tcp",
  src: TUN_CLIENT,
  srcPort: 40000,
  dst: TUN_VIP,
  dstPort: 21000,
  ...over,
});
const s = (over: Partial<PacketSpec>): PacketSpec => ({
  protocol: "tcp",
  src: TUN_VIP,
  srcPort: 21000,
  dst: TUN_CLIENT,
  dstPort: 40000,
  ...over,
});

/** ICMP 3/4 from the VIP with `mtu`, quoting the big packet. */
function fragNeeded(mtu: number, quoted: Uint8Array): Uint8Array {
  return buildIpv4({
    protocol: "icmp",
    src: TUN_VIP,
    dst: TUN_CLIENT,
    icmpType: 3,
    icmpCode: 4,
    icmpRest: mtu,
    payload: quoted.subarray(0, 28),
  });
}

/** An upload: SYN, a 1500-byte DF segment, frag-needed (unless mtu null), smaller ones, FINs. */
function upload(mtu: number | null, after = 1480) {
  const big = buildIpv4(c({ seq: 1, ack: 1, payload: new Uint8Array(1460) }));
  const packets = [
    buildIpv4(c({ flags: "S", seq: 0 })),
    buildIpv4(s({ flags: "S.", seq: 0, ack: 1 })),
    big,
    ...(mtu === null ? [] : [fragNeeded(mtu, big)]),
    buildIpv4(c({ seq: 1, ack: 1, payload: new Uint8Array(after - 40) })),
    buildIpv4(c({ flags: "F.", seq: after - 39, ack: 1 })),
    buildIpv4(s({ flags: "F.", seq: 1, ack: after - 38 })),
  ];
  const decoded = decodeRecords(
    packets.map((b, i) => ({ time: 1 + i / 10, data: ethernetFrame(b) })),
  );
  return { packets: decoded, conns: groupConnections(decoded) };
}

const WANT = { vips: new Set([TUN_VIP]), mtu: 1480, why: "1500 less 20 for IPIP" };

test("frag-needed with the reduced MTU, then smaller packets and a clean close, passes", () => {
  const u = upload(1480);
  const r = assertFragNeeded(u.packets, u.conns, WANT);
  assert.ok(r.passed, r.line);
});

test("a missing frag-needed fails, naming the big packet", () => {
  const u = upload(null);
  const r = assertFragNeeded(u.packets, u.conns, WANT);
  assert.equal(r.passed, false);
  assert.match(r.line, /no ICMP fragmentation needed .* 1500-byte packets/);
});

test("a frag-needed with the link's MTU (the tunnel not subtracted) fails", () => {
  const u = upload(1500);
  const r = assertFragNeeded(u.packets, u.conns, WANT);
  assert.equal(r.passed, false);
  assert.match(r.line, /next-hop MTU 1500, not 1480/);
});

test("a client that keeps sending big packets after it fails", () => {
  const u = upload(1480, 1500);
  const r = assertFragNeeded(u.packets, u.conns, WANT);
  assert.equal(r.passed, false);
  assert.match(r.line, /still sent 1500-byte packets/);
});
