// ICMP errors about the director's own tunnel packets (ip_vs_in_icmp's tunnel branch): the
// quote is the packet the fake raw socket really sent, cut as a router cuts it; the answer
// to the client, the path MTU learnt and what later packets get, for every tunnel type;
// the MTU arithmetic at its floor; every malformed shape dropped and counted, never thrown.
import { test } from "node:test";
import assert from "node:assert/strict";
import { IP, put16, refIpChecksum, Rng, u16 } from "../packet/test-support.ts";
import { buildIcmpError, mutate, refIcmpValid } from "../replies/reply-test-support.ts";
import { ACK, CLIENT, RS1, SYN, VIP } from "../engine/engine-test-support.ts";
import { DIP, segment, tunEngine } from "../forwarding/tunnel-test-support.ts";
import { parseIPv4 } from "../net/ipv4-address.ts";
import { MIN_PMTU, PMTU_EXPIRES_MS } from "../net/tunnel-table.ts";
import type { TunnelOptions } from "../service/tunnel-options.ts";

const ROUTER = parseIPv4("172.16.1.254")!;
const u32 = (b: Uint8Array, at: number) => ((u16(b, at) << 16) | u16(b, at + 2)) >>> 0;

const TUNNELS = [
  ["ipip", { type: "ipip", port: 0, checksum: "nocsum" }, 20],
  ["gue", { type: "gue", port: 6080, checksum: "nocsum" }, 32],
  ["gue csum", { type: "gue", port: 6080, checksum: "csum" }, 32],
  ["gre", { type: "gre", port: 0, checksum: "nocsum" }, 24],
  ["gre csum", { type: "gre", port: 0, checksum: "csum" }, 28],
] as const;

/** An engine with a connection whose first packet (the SYN, DF unless told) was sent. */
function connected(tunnel: TunnelOptions, mtu = 1500, df = true) {
  const t = tunEngine({ ...tunnel }, mtu);
  const syn = segment(SYN, 20);
  if (!df) {
    syn[IP + 6]! &= ~0x40;
    put16(syn, IP + 10, refIpChecksum(syn));
  }
  const client = syn.slice(IP);
  assert.equal(t.engine.process(syn, syn.length), 0);
  t.engine.tunnels.flush();
  const [, tunnelPacket] = t.socket.sent[0]!;
  return { ...t, client, tunnelPacket, hop: t.engine.tunnels.nextHopOf(RS1) };
}

/** A router's ICMP error about the tunnel packet, quoting up to 548 bytes as Linux does. */
function errorAbout(quoted: Uint8Array, type: number, code: number, rest = 0, quoteLen?: number) {
  return buildIcmpError(new Rng(1), {
    outerSrc: ROUTER,
    outerDst: DIP,
    type,
    code,
    rest,
    quoted,
    quoteLen: quoteLen ?? Math.min(quoted.length, 548),
  });
}

/** The ICMP the client gets: from the VIP, about its own packet (quoted byte for byte). */
function checkForClient(
  buf: Uint8Array,
  n: number,
  client: Uint8Array,
  type: number,
  code: number,
) {
  assert.ok(n > 0, "an ICMP for the client");
  assert.equal(u32(buf, IP + 12), VIP, "from the VIP");
  assert.equal(u32(buf, IP + 16), CLIENT, "to the client");
  assert.equal(buf[IP + 9], 1);
  assert.equal(buf[IP + 8], 65, "TTL 64, plus the one the TUN forwarding takes");
  assert.equal(buf[IP + 20], type);
  assert.equal(buf[IP + 21], code);
  assert.ok(refIcmpValid(buf.subarray(0, n), IP), "ICMP checksum");
  assert.equal(u16(buf, IP + 2), n - IP, "IP total length");
  const quote = buf.subarray(IP + 28, n);
  assert.deepEqual([...quote], [...client.subarray(0, quote.length)], "the client's packet");
  assert.ok(quote.length >= 28);
}

for (const [name, tunnel, overhead] of TUNNELS) {
  test(`TUN ${name}: fragmentation needed about a tunnel packet reaches the client with the MTU less ${overhead}`, () => {
    const { engine, socket, client, tunnelPacket, hop } = connected(tunnel);
    const buf = errorAbout(tunnelPacket, 3, 4, 1400);
    const n = engine.processTunnelIcmp(buf, buf.length);
    checkForClient(buf, n, client, 3, 4);
    assert.equal(u16(buf, IP + 26), 1400 - overhead, "the MTU left inside the tunnel");
    assert.equal(engine.tunnels.mtuOf(hop), 1400, "the path MTU learnt");
    assert.deepEqual(engine.tunnelIcmp.counters, { received: 1, translated: 1, pmtuUpdates: 1 });
    // Later DF packets: one that fits 1400 with the headers goes, one byte more does not.
    const fits = segment(ACK, 1400 - overhead - 40);
    assert.equal(engine.process(fits, fits.length), 0);
    engine.tunnels.flush();
    assert.equal(socket.sent.length, 2);
    assert.equal(socket.sent[1]![1].length, 1400);
    const big = new Uint8Array(4096);
    const tooBig = segment(ACK, 1400 - overhead - 40 + 1);
    big.set(tooBig);
    assert.ok(engine.process(big, tooBig.length) > 0);
    assert.equal(big[IP + 20], 3);
    assert.equal(u16(big, IP + 26), 1400 - overhead, "the director's own frag-needed, learnt MTU");
  });

  test(`TUN ${name}: other errors reach the client with their type and code, MTU untouched`, () => {
    for (const [type, code] of [[3, 1], [3, 0], [3, 13], [11, 0], [4, 0]]) {
      const { engine, client, tunnelPacket, hop } = connected(tunnel);
      const buf = errorAbout(tunnelPacket, type!, code!);
      checkForClient(buf, engine.processTunnelIcmp(buf, buf.length), client, type!, code!);
      assert.equal(u32(buf, IP + 24), 0, "rest of header as the router sent it");
      assert.equal(engine.tunnels.mtuOf(hop), 1500);
      assert.equal(engine.tunnelIcmp.counters.pmtuUpdates, 0);
    }
  });
}

test("TUN: fragmentation needed about a packet without DF teaches the MTU and tells nobody", () => {
  const { engine, tunnelPacket, hop } = connected(TUNNELS[1][1], 1500, false);
  const buf = errorAbout(tunnelPacket, 3, 4, 1400);
  assert.equal(engine.processTunnelIcmp(buf, buf.length), 0);
  assert.equal(engine.tunnels.mtuOf(hop), 1400);
  assert.deepEqual(engine.tunnelIcmp.counters, { received: 1, translated: 0, pmtuUpdates: 1 });
  assert.deepEqual(engine.drops.toJSON(), {});
});

test("TUN: the MTU arithmetic: the kernel's 552 floor, IPVS's 68 + headers floor, no raise", () => {
  // A router's MTU below 552 counts as 552 (ip_rt_min_pmtu): 552 − 32 for GUE.
  let t = connected(TUNNELS[1][1]);
  let buf = errorAbout(t.tunnelPacket, 3, 4, 300);
  t.engine.processTunnelIcmp(buf, buf.length);
  assert.equal(t.engine.tunnels.mtuOf(t.hop), MIN_PMTU);
  assert.equal(u16(buf, IP + 26), MIN_PMTU - 32);
  // A larger MTU never raises the path's.
  buf = errorAbout(t.tunnelPacket, 3, 4, 1450);
  t.engine.processTunnelIcmp(buf, buf.length);
  assert.equal(t.engine.tunnels.mtuOf(t.hop), MIN_PMTU);
  // A route MTU at 68 + 32 is passed on as it is; one byte more is reduced.
  for (const [route, told] of [[100, 100], [101, 69]] as const) {
    t = connected(TUNNELS[1][1]);
    t.mtuWord[0] = route;
    buf = errorAbout(t.tunnelPacket, 3, 4, 90);
    t.engine.processTunnelIcmp(buf, buf.length);
    assert.equal(t.engine.tunnels.mtuOf(t.hop), route, "a route below 552 stays");
    assert.equal(u16(buf, IP + 26), told, `route MTU ${route}`);
  }
});

test("TUN: a learnt path MTU expires after mtu_expires; the route's MTU is its own word", () => {
  const { engine, tunnelPacket, hop, mtuWord } = connected(TUNNELS[0][1]);
  const buf = errorAbout(tunnelPacket, 3, 4, 1400);
  engine.processTunnelIcmp(buf, buf.length);
  mtuWord[0] = 1500; // the control thread's refresh writes the route's MTU again
  assert.equal(engine.tunnels.mtuOf(hop), 1400, "the smaller learnt PMTU holds");
  const [row] = engine.tunnels.describe(0);
  assert.deepEqual(row, {
    server: RS1,
    source: DIP,
    routeMtu: 1500,
    pmtu: 1400,
    pmtuExpiresSeconds: PMTU_EXPIRES_MS / 1000,
  });
  engine.tick(PMTU_EXPIRES_MS - 1);
  assert.equal(engine.tunnels.mtuOf(hop), 1400);
  engine.tick(PMTU_EXPIRES_MS);
  assert.equal(engine.tunnels.mtuOf(hop), 1500, "expired");
  assert.equal(engine.tunnels.describe(PMTU_EXPIRES_MS)[0]!.pmtu, 0);
});

/** Builds the error, lets `spoil` change the quote, then fixes the ICMP checksum. */
function spoiled(tunnel: TunnelOptions, spoil: (quote: Uint8Array) => void, quoteLen?: number) {
  const t = connected(tunnel);
  const quote = t.tunnelPacket.slice();
  spoil(quote);
  const buf = errorAbout(quote, 3, 1, 0, quoteLen);
  return { ...t, buf, n: t.engine.processTunnelIcmp(buf, buf.length) };
}

test("TUN: malformed errors about tunnel packets are dropped under their reason", () => {
  const cases: [string, TunnelOptions, (q: Uint8Array) => void, number | undefined, string][] = [
    ["IPIP quote without the client's header", TUNNELS[0][1], () => {}, 28, "malformed"],
    ["client's ports cut off", TUNNELS[0][1], () => {}, 20 + 20 + 4, "malformed"],
    ["GUE version 1", TUNNELS[1][1], (q) => (q[28] = 0x40), undefined, "malformed"],
    ["GUE control message", TUNNELS[1][1], (q) => (q[28] = 0x20), undefined, "malformed"],
    ["GUE inner protocol not IPIP", TUNNELS[1][1], (q) => (q[29] = 41), undefined, "malformed"],
    ["GUE header cut off", TUNNELS[1][1], () => {}, 30, "malformed"],
    ["GRE with the key bit", TUNNELS[3][1], (q) => (q[20] = 0x20), undefined, "malformed"],
    ["GRE not IPv4", TUNNELS[3][1], (q) => (q[22] = 0x86), undefined, "malformed"],
    ["client packet not IPv4", TUNNELS[0][1], (q) => (q[20] = 0x65), undefined, "malformed"],
    ["client packet ICMP", TUNNELS[0][1], (q) => (q[29] = 1), undefined, "malformed"],
    ["another client port", TUNNELS[0][1], (q) => (q[41] ^= 1), undefined, "no-connection"],
    ["another GUE port", TUNNELS[1][1], (q) => (q[23] ^= 1), undefined, "no-connection"],
    ["IPIP quote for a GUE server", TUNNELS[1][1], (q) => (q[9] = 4), undefined, "malformed"],
    ["tunnel packet's later fragment", TUNNELS[0][1], (q) => (q[7] = 8), undefined, "fragment"],
    ["client packet's later fragment", TUNNELS[0][1], (q) => (q[27] = 8), undefined, "fragment"],
  ];
  for (const [what, tunnel, spoil, quoteLen, reason] of cases) {
    const { engine, n } = spoiled(tunnel, spoil, quoteLen);
    assert.equal(n, 0, what);
    assert.deepEqual(engine.drops.toJSON(), { [`tunnel-icmp-${reason}`]: 1 }, what);
    assert.equal(engine.tunnelIcmp.counters.received, 1, what);
  }
  // A bad ICMP checksum.
  const t = connected(TUNNELS[0][1]);
  const buf = errorAbout(t.tunnelPacket, 3, 4, 1400);
  buf[IP + 22] ^= 0xff;
  assert.equal(t.engine.processTunnelIcmp(buf, buf.length), 0);
  assert.deepEqual(t.engine.drops.toJSON(), { "tunnel-icmp-malformed": 1 });
  assert.equal(t.engine.tunnels.mtuOf(t.hop), 1500, "nothing learnt from it");
});

test("TUN: ICMP about packets that are not the director's tunnel packets is left alone", () => {
  const spoils: [string, (q: Uint8Array) => void][] = [
    ["from another source", (q) => (q[15] ^= 1)],
    ["to a server that is not a tunnel server", (q) => (q[19] ^= 1)],
    ["a TCP packet", (q) => (q[9] = 6)],
  ];
  for (const [what, spoil] of spoils) {
    const { engine, n } = spoiled(TUNNELS[0][1], spoil);
    assert.equal(n, 0, what);
    assert.deepEqual(engine.drops.toJSON(), {}, what);
    assert.equal(engine.tunnelIcmp.counters.received, 0, what);
  }
  // An echo reply (ICMP_FILTER keeps those away; the handler ignores them all the same).
  const t = connected(TUNNELS[0][1]);
  const buf = errorAbout(t.tunnelPacket, 0, 0);
  assert.equal(t.engine.processTunnelIcmp(buf, buf.length), 0);
  assert.equal(t.engine.tunnelIcmp.counters.received, 0);
});

test("TUN: mutated errors about tunnel packets never throw and never answer with garbage", () => {
  const rng = new Rng(99);
  for (let i = 0; i < 3000; i++) {
    const [, tunnel] = TUNNELS[i % TUNNELS.length]!;
    const t = connected(tunnel);
    const buf = errorAbout(t.tunnelPacket, i % 2 === 0 ? 3 : 11, i % 2 === 0 ? 4 : 0, 1400);
    const length = mutate(rng, buf, buf.length);
    const n = t.engine.processTunnelIcmp(buf, length);
    if (n > 0) {
      assert.ok(refIcmpValid(buf.subarray(0, n), IP), "a sound ICMP whenever one is sent");
      assert.equal(u32(buf, IP + 12), VIP);
    }
  }
});
