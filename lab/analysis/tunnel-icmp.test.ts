// Router errors about tunnel packets, read from captures: the quoted tunnel packet's server
// and key, the client packet inside it for every tunnel type, which undelivered tunnel
// packets a router's message accounts for; the pmtu assertion's from-router half on top.
import { test } from "node:test";
import assert from "node:assert/strict";
import { groupConnections } from "./connections.ts";
import { buildIpv4, decodeRecords, ethernetFrame, type PacketSpec } from "./test-support.ts";
import { buildTunnel, TUN_CLIENT, TUN_DIRECTOR, TUN_SERVERS, TUN_VIP } from "./tun-test-support.ts";
import {
  packetKey,
  quotedSource,
  quoteKey,
  TUNNEL_KEY_LEN,
  tunnelIcmpErrors,
  undeliverableCheck,
} from "./tunnel-icmp.ts";
import type { Packet } from "./packet.ts";
import { assertFragNeeded, assertFragNeededFromRouter } from "../assertions/pmtu.ts";
import { parseRouteMtu } from "../path-change.ts";

const ROUTER = "172.16.1.254";

const fromClient = (over: Partial<PacketSpec>): PacketSpec => ({
  protocol: "tcp",
  src: TUN_CLIENT,
  srcPort: 40000,
  dst: TUN_VIP,
  dstPort: 21000,
  ...over,
});

/** The VIP's answer to the client, as the real server sends it (replies bypass the director). */
const fromVip = (over: Partial<PacketSpec>): PacketSpec => ({
  ...fromClient({}),
  src: TUN_VIP,
  dst: TUN_CLIENT,
  srcPort: 21000,
  dstPort: 40000,
  ...over,
});

/** An ICMP error quoting up to 548 bytes, as Linux routers do. */
function errorFrom(
  src: string,
  dst: string,
  type: number,
  code: number,
  quoted: Uint8Array,
  mtu = 0,
) {
  return buildIpv4({
    protocol: "icmp",
    src,
    dst,
    icmpType: type,
    icmpCode: code,
    icmpRest: mtu,
    payload: quoted.subarray(0, Math.min(quoted.length, 548)),
  });
}

function decode(packets: Uint8Array[], start = 1): Packet[] {
  return decodeRecords(packets.map((b, i) => ({ time: start + i / 10, data: ethernetFrame(b) })));
}

for (
  const [type, checksum, headers] of [["ipip", false, 20], ["gue", true, 32], ["gre", false, 24], [
    "gre",
    true,
    28,
  ]] as const
) {
  test(`a router's error about a ${type}${checksum ? " (checksum)" : ""} packet: its server, key and the client packet inside`, () => {
    const inner = buildIpv4(fromClient({ seq: 1, ack: 1, payload: new Uint8Array(1400) }));
    const tunnel = buildTunnel(inner, { type, checksum, dst: TUN_SERVERS.rs2, ttl: 62 });
    const [outer, icmp] = decode([tunnel, errorFrom(ROUTER, TUN_DIRECTOR, 3, 4, tunnel, 1400)]);
    const [e] = tunnelIcmpErrors([outer!, icmp!], TUN_DIRECTOR);
    assert.ok(e);
    assert.equal(e.server, TUN_SERVERS.rs2);
    assert.equal(e.mtu, 1400);
    assert.equal(e.headers, headers);
    assert.equal(e.tunnelKey, packetKey(outer!, TUNNEL_KEY_LEN));
    assert.equal(e.innerKey, Buffer.from(inner.subarray(0, 28)).toString("hex"));
    assert.ok(undeliverableCheck([e])(outer!), "the quoted packet is accounted for");
  });
}

test("errors not about the director's packets, or not to it, are not tunnel errors", () => {
  const inner = buildIpv4(fromClient({}));
  const tunnel = buildTunnel(inner, { type: "ipip", dst: TUN_SERVERS.rs1, ttl: 62 });
  const other = buildTunnel(inner, {
    type: "ipip",
    src: "172.16.1.9",
    dst: TUN_SERVERS.rs1,
    ttl: 62,
  });
  const packets = decode([
    errorFrom(ROUTER, "172.16.1.9", 3, 1, tunnel), // to someone else
    errorFrom(ROUTER, TUN_DIRECTOR, 3, 1, other), // about someone else's packet
    errorFrom(ROUTER, TUN_DIRECTOR, 3, 1, inner), // about a TCP packet
  ]);
  assert.deepEqual(tunnelIcmpErrors(packets, TUN_DIRECTOR), []);
});

test("a frag-needed accounts for the server's later too-big DF packets (routers limit ICMP), not small ones", () => {
  const big = (id: number) =>
    buildTunnel(buildIpv4(fromClient({ ipId: id, payload: new Uint8Array(1400) })), {
      type: "gue",
      dst: TUN_SERVERS.rs2,
      ttl: 62,
    });
  const small = buildTunnel(buildIpv4(fromClient({ ipId: 9 })), {
    type: "gue",
    dst: TUN_SERVERS.rs2,
    ttl: 62,
  });
  const toRs1 = buildTunnel(buildIpv4(fromClient({ ipId: 8, payload: new Uint8Array(1400) })), {
    type: "ipip",
    dst: TUN_SERVERS.rs1,
    ttl: 62,
  });
  const packets = decode([
    big(1),
    errorFrom(ROUTER, TUN_DIRECTOR, 3, 4, big(1), 1400),
    big(2),
    small,
    toRs1,
  ]);
  const check = undeliverableCheck(tunnelIcmpErrors(packets, TUN_DIRECTOR));
  assert.deepEqual([packets[2], packets[3], packets[4]].map((p) => check(p!)), [
    true,
    false,
    false,
  ]);
  // Host unreachable: only the packets it quotes.
  const unreachable = decode([big(3), errorFrom(ROUTER, TUN_DIRECTOR, 3, 1, big(3)), big(4)]);
  const check2 = undeliverableCheck(tunnelIcmpErrors(unreachable, TUN_DIRECTOR));
  assert.deepEqual([check2(unreachable[0]!), check2(unreachable[2]!)], [true, false]);
});

/**
 * An upload through a router with a smaller MTU: on the director's port the tunnel packet and
 * the router's frag-needed; on the client network the client's packets and the VIP's.
 */
function narrowUpload(told: number | null, after = 1368) {
  const big = buildIpv4(fromClient({ seq: 1, ack: 1, payload: new Uint8Array(1400 - 40) }));
  const tunnel = buildTunnel(big, { type: "gue", dst: TUN_SERVERS.rs2, ttl: 62 });
  const director = decode([tunnel, errorFrom(ROUTER, TUN_DIRECTOR, 3, 4, tunnel, 1400)], 1.15);
  const pub = [
    buildIpv4(fromClient({ flags: "S", seq: 0 })),
    buildIpv4(fromVip({ flags: "S.", seq: 0, ack: 1 })),
    big,
    ...(told === null ? [] : [errorFrom(TUN_VIP, TUN_CLIENT, 3, 4, big, told)]),
    buildIpv4(fromClient({ seq: 1, ack: 1, payload: new Uint8Array(after - 40) })),
    buildIpv4(fromClient({ flags: "F.", seq: after - 39, ack: 1 })),
    buildIpv4(fromVip({ flags: "F.", seq: 1, ack: after - 38 })),
  ];
  const packets = decode(pub);
  return {
    packets,
    conns: groupConnections(packets),
    errors: tunnelIcmpErrors(director, TUN_DIRECTOR),
  };
}

const VIPS = new Set([TUN_VIP]);

test("pmtu from: router passes when the router's 1400 reaches the client as 1368, after it", () => {
  const u = narrowUpload(1368);
  const r = assertFragNeededFromRouter(u.packets, u.conns, u.errors, {
    vips: VIPS,
    routerMtu: 1400,
  });
  assert.ok(r.passed, r.line);
  assert.match(r.line, /MTU 1368 \(1400 less 32\)/);
  assert.equal(quotedSource(u.packets[3]!), `${TUN_CLIENT}:40000`);
  assert.equal(quoteKey(u.packets[3]!), u.errors[0]!.innerKey);
  // The director-MTU half leaves that connection to this one.
  const own = assertFragNeeded(u.packets, u.conns, { vips: VIPS, mtu: 1468, why: "" }, u.errors);
  assert.equal(own.passed, false);
  assert.match(own.line, /no ICMP fragmentation needed/);
});

test("pmtu from: router fails on the tunnel not subtracted, a router MTU not asked for, none passed on, big packets after", () => {
  let u = narrowUpload(1400);
  let r = assertFragNeededFromRouter(u.packets, u.conns, u.errors, { vips: VIPS });
  assert.equal(r.passed, false);
  assert.match(r.line, /next-hop MTU 1400, not 1368/);
  u = narrowUpload(1368);
  r = assertFragNeededFromRouter(u.packets, u.conns, u.errors, { vips: VIPS, routerMtu: 1300 });
  assert.match(r.line, /announced 1400, not 1300/);
  u = narrowUpload(null);
  r = assertFragNeededFromRouter(u.packets, u.conns, u.errors, { vips: VIPS });
  assert.equal(r.passed, false);
  assert.match(r.line, /none passed on/);
  r = assertFragNeededFromRouter(u.packets, u.conns, [], { vips: VIPS });
  assert.match(r.line, /no router's fragmentation needed/);
  u = narrowUpload(1368, 1400);
  r = assertFragNeededFromRouter(u.packets, u.conns, u.errors, { vips: VIPS });
  assert.equal(r.passed, false);
  assert.match(r.line, /still sent 1400-byte packets/);
});

test("ip route get's cached path MTU", () => {
  assert.equal(
    parseRouteMtu(
      "203.0.113.5 via 198.51.100.254 dev eth0 src 198.51.100.2 uid 0 \n    cache expires 596sec mtu 1368",
    ),
    1368,
  );
  assert.equal(
    parseRouteMtu("203.0.113.5 via 198.51.100.254 dev eth0 src 198.51.100.2 uid 0 \n    cache"),
    null,
  );
});
