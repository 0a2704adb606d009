// decapsulate() on packets built as IPVS builds them: IPIP, GUE (with and without UDP
// checksum, direct IP, remote checksum offload) and GRE (with and without checksum) are
// found; every bad input is refused with its own verdict and leaves nothing to inject;
// seeded random mutations never throw and never yield an inner packet outside the buffer.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { internetChecksum, pseudoHeaderSum } from "../../director/packet/checksum.ts";
import { foldSum, sumBytes } from "../../director/packet/checksum.ts";
import { parseIPv4 } from "../../director/net/ipv4-address.ts";
import { Rng } from "../../director/packet/test-support.ts";
import { Verdict, VERDICT_NAMES } from "./drop-reasons.ts";
import { type DecapPolicy, decapsulate, Decapsulated, type TunnelType } from "./outer-packet.ts";
import {
  gre,
  gue,
  icmpEcho,
  ipip,
  ipv4,
  refreshIpChecksum,
  TCP_CHECKSUM_AT,
  tcpSyn,
} from "./test-packets.ts";

const DIRECTOR = "172.16.1.254";
const OTHER = "172.16.1.9";
const RS = "172.16.1.2";
const VIP = "203.0.113.5";
const CLIENT = "198.51.100.2";

const int = (a: string) => parseIPv4(a)! | 0;

function policy(guePort = 6080): DecapPolicy {
  return {
    guePort,
    directors: new Set([int(DIRECTOR)]),
    innerDestinations: new Set([int(VIP), int(RS)]),
  };
}

/** Runs decapsulate on a copy; returns the verdict name and the inner bytes when injected. */
function run(pkt: Uint8Array, type: TunnelType, guePort = 6080) {
  const buf = new Uint8Array(pkt.length + 16);
  buf.set(pkt);
  const out = new Decapsulated();
  const verdict = decapsulate(buf, pkt.length, type, policy(guePort), out);
  const inner = verdict === Verdict.INJECT
    ? buf.slice(out.innerOffset, out.innerOffset + out.innerLength)
    : null;
  return { verdict: VERDICT_NAMES[verdict], inner };
}

const echo = icmpEcho(CLIENT, VIP, 7, 1);

describe("well-formed tunnel packets are decapsulated", () => {
  test("IPIP", () => {
    assert.deepEqual(run(ipip(DIRECTOR, RS, echo), "ipip"), { verdict: "injected", inner: echo });
  });
  test("GUE without and with UDP checksum", () => {
    for (const udpChecksum of [false, true]) {
      const pkt = gue(DIRECTOR, RS, echo, { udpChecksum });
      assert.equal((pkt[26]! << 8 | pkt[27]!) !== 0, udpChecksum);
      assert.deepEqual(run(pkt, "gue"), { verdict: "injected", inner: echo });
    }
  });
  test("GUE on another configured port, with unknown trailing options skipped", () => {
    const pkt = gue(DIRECTOR, RS, echo, { port: 19523, extraOptions: 8 });
    assert.deepEqual(run(pkt, "gue", 19523), { verdict: "injected", inner: echo });
  });
  test("GUE version 1 (direct IPv4 after the UDP header)", () => {
    const pkt = gue(DIRECTOR, RS, echo, { direct: true, udpChecksum: true });
    assert.deepEqual(run(pkt, "gue"), { verdict: "injected", inner: echo });
  });
  test("GUE remote checksum offload: the inner TCP checksum is finished", () => {
    const full = tcpSyn(CLIENT, VIP, 40001, 80);
    const partial = tcpSyn(CLIENT, VIP, 40001, 80, true);
    assert.notDeepEqual(partial, full);
    const pkt = gue(DIRECTOR, RS, partial, { remcsum: { start: 20, offset: 16 } });
    assert.equal(pkt[20 + 8]! & 0x1f, 2, "Hlen 2: private flags word + remcsum");
    assert.deepEqual(run(pkt, "gue"), { verdict: "injected", inner: full });
  });
  test("remote checksum at an odd start keeps its byte lanes", () => {
    const inner = tcpSyn(CLIENT, VIP, 40001, 80);
    const seed = inner.slice();
    // Claim the checksum covers from byte 21 on: the field gets ~sum(21..end) lane-aligned.
    const pkt = gue(DIRECTOR, RS, seed, { remcsum: { start: 21, offset: 15 } });
    const { verdict, inner: got } = run(pkt, "gue");
    assert.equal(verdict, "injected");
    const prefix = foldSum(sumBytes(inner, 0, 21, 0));
    const rest = foldSum(sumBytes(inner, 0, inner.length, 0) + (~prefix & 0xffff));
    assert.equal((got![TCP_CHECKSUM_AT]! << 8) | got![TCP_CHECKSUM_AT + 1]!, ~rest & 0xffff);
  });
  test("GRE without and with checksum", () => {
    for (const checksum of [false, true]) {
      assert.deepEqual(run(gre(DIRECTOR, RS, echo, { checksum }), "gre"), {
        verdict: "injected",
        inner: echo,
      });
    }
  });
  test("inner packet to the real server's own address; trailing bytes left out", () => {
    const toRs = icmpEcho(CLIENT, RS, 7, 2);
    const padded = new Uint8Array(toRs.length + 6);
    padded.set(toRs);
    assert.deepEqual(run(ipip(DIRECTOR, RS, padded), "ipip"), { verdict: "injected", inner: toRs });
  });
  test("outer CE marks an ECT inner packet CE (checksum updated); ECT unchanged otherwise", () => {
    const ect = icmpEcho(CLIENT, VIP, 7, 3, 0x02);
    const pkt = ipip(DIRECTOR, RS, ect);
    pkt[1] = 0x03;
    refreshIpChecksum(pkt, 0);
    const { verdict, inner } = run(pkt, "ipip");
    assert.equal(verdict, "injected");
    assert.equal(inner![1], 0x03);
    assert.equal(internetChecksum(inner!, 0, 20), 0);
    assert.deepEqual(run(ipip(DIRECTOR, RS, ect), "ipip").inner, ect);
  });
});

/** A copy of pkt with bytes changed, then the outer header checksum refreshed. */
function patched(pkt: Uint8Array, changes: Record<number, number>): Uint8Array {
  const copy = pkt.slice();
  for (const [at, v] of Object.entries(changes)) copy[Number(at)] = v;
  refreshIpChecksum(copy, 0);
  return copy;
}

/** The same packet cut to `length` bytes, total length saying so. */
function cut(pkt: Uint8Array, length: number): Uint8Array {
  return patched(pkt.slice(0, length), { 2: length >> 8, 3: length & 0xff });
}

describe("bad input is dropped with its reason", () => {
  const cases: [string, Uint8Array, TunnelType, string][] = [
    ["IPIP from a non-director", ipip(OTHER, RS, echo), "ipip", "not-director"],
    ["GUE from a non-director", gue(OTHER, RS, echo), "gue", "not-director"],
    ["GRE from a non-director", gre(OTHER, RS, echo), "gre", "not-director"],
    ["GUE to the wrong port", gue(DIRECTOR, RS, echo, { port: 6081 }), "gue", "gue-wrong-port"],
    ["other UDP from elsewhere", gue(OTHER, RS, echo, { port: 53 }), "gue", "not-tunnel"],
    ["GRE on an IPIP decapsulator", gre(DIRECTOR, RS, echo), "ipip", "not-tunnel"],
    ["outer header only", cut(ipip(DIRECTOR, RS, echo), 20), "ipip", "truncated-inner"],
    ["outer header cut", ipip(DIRECTOR, RS, echo).slice(0, 16), "ipip", "truncated-outer"],
    ["inner header cut", cut(ipip(DIRECTOR, RS, echo), 36), "ipip", "truncated-inner"],
    ["inner total beyond", cut(ipip(DIRECTOR, RS, echo), 50), "ipip", "truncated-inner"],
    ["UDP header cut", cut(gue(DIRECTOR, RS, echo), 26), "gue", "truncated-outer"],
    ["GUE header cut", cut(gue(DIRECTOR, RS, echo), 30), "gue", "truncated-outer"],
    [
      "GUE options cut",
      cut(gue(DIRECTOR, RS, echo, { extraOptions: 8 }), 36),
      "gue",
      "truncated-outer",
    ],
    ["GRE header cut", cut(gre(DIRECTOR, RS, echo), 22), "gre", "truncated-outer"],
    [
      "GRE checksum cut",
      cut(gre(DIRECTOR, RS, echo, { checksum: true }), 26),
      "gre",
      "truncated-outer",
    ],
    ["UDP length beyond", patched(gue(DIRECTOR, RS, echo), { 24: 0x7f }), "gue", "truncated-outer"],
    [
      "bad UDP checksum",
      patched(gue(DIRECTOR, RS, echo, { udpChecksum: true }), { 27: 0 }),
      "gue",
      "bad-udp-checksum",
    ],
    ["GUE version 2", gue(DIRECTOR, RS, echo, { firstByte: 0x80 }), "gue", "gue-bad-version"],
    [
      "GUE version 1, IPv6",
      patched(gue(DIRECTOR, RS, echo, { direct: true }), { 28: 0x60 }),
      "gue",
      "gue-bad-version",
    ],
    ["GUE control", gue(DIRECTOR, RS, echo, { firstByte: 0x20 }), "gue", "gue-control"],
    ["GUE unknown flag", gue(DIRECTOR, RS, echo, { flags: 0x8000 }), "gue", "gue-bad-flags"],
    ["GUE priv flag, no room", gue(DIRECTOR, RS, echo, { flags: 1 }), "gue", "gue-bad-flags"],
    [
      "GUE unknown private flag",
      gue(DIRECTOR, RS, echo, { privateFlags: 0x40000000 }),
      "gue",
      "gue-bad-flags",
    ],
    [
      "GUE remcsum, no room",
      gue(DIRECTOR, RS, echo, { privateFlags: 0x80000000 }),
      "gue",
      "gue-bad-flags",
    ],
    [
      "GUE remcsum beyond",
      gue(DIRECTOR, RS, echo, { remcsum: { start: 20, offset: 200 } }),
      "gue",
      "gue-bad-remcsum",
    ],
    ["GUE IPv6 inner", gue(DIRECTOR, RS, echo, { proto: 41 }), "gue", "inner-not-ipv4"],
    ["GRE IPv6 inner", gre(DIRECTOR, RS, echo, { protocol: 0x86dd }), "gre", "inner-not-ipv4"],
    ["GRE key flag", gre(DIRECTOR, RS, echo, { flags: 0x2000 }), "gre", "gre-bad-flags"],
    ["GRE with a key", gre(DIRECTOR, RS, echo, { key: 42 }), "gre", "gre-bad-flags"],
    ["GRE with a sequence number", gre(DIRECTOR, RS, echo, { seq: 1 }), "gre", "gre-bad-flags"],
    [
      "GRE checksum and key",
      gre(DIRECTOR, RS, echo, { checksum: true, key: 7 }),
      "gre",
      "gre-bad-flags",
    ],
    ["GRE version 1", gre(DIRECTOR, RS, echo, { flags: 0x0001 }), "gre", "gre-bad-flags"],
    [
      "bad GRE checksum",
      patched(gre(DIRECTOR, RS, echo, { checksum: true }), { 60: 0xee }),
      "gre",
      "bad-gre-checksum",
    ],
    ["inner IPv6", patched(ipip(DIRECTOR, RS, echo), { 20: 0x65 }), "ipip", "bad-inner-header"],
    ["inner IHL 4", patched(ipip(DIRECTOR, RS, echo), { 20: 0x44 }), "ipip", "bad-inner-header"],
    ["inner checksum", patched(ipip(DIRECTOR, RS, echo), { 30: 0 }), "ipip", "bad-inner-checksum"],
    [
      "inner not held",
      ipip(DIRECTOR, RS, icmpEcho(CLIENT, "203.0.113.6", 7, 1)),
      "ipip",
      "inner-dst-not-local",
    ],
    [
      "GRE inner not held",
      gre(DIRECTOR, RS, icmpEcho(CLIENT, OTHER, 7, 1)),
      "gre",
      "inner-dst-not-local",
    ],
  ];
  for (const [name, pkt, type, expected] of cases) {
    test(name, () => assert.deepEqual(run(pkt, type), { verdict: expected, inner: null }));
  }
  test("outer CE on a Not-ECT inner packet", () => {
    assert.equal(
      run(patched(ipip(DIRECTOR, RS, echo), { 1: 0x03 }), "ipip").verdict,
      "ecn-ce-not-ect",
    );
  });
  test("inner total length below its header", () => {
    const inner = echo.slice();
    inner[2] = 0;
    inner[3] = 16;
    refreshIpChecksum(inner, 0);
    assert.equal(run(ipv4(DIRECTOR, RS, 4, inner), "ipip").verdict, "bad-inner-header");
  });
  test("a GUE checksum that only the pseudo-header breaks (other destination)", () => {
    const pkt = gue(DIRECTOR, RS, echo, { udpChecksum: true });
    const pseudo = pseudoHeaderSum(parseIPv4(DIRECTOR)!, parseIPv4(RS)!, 17, pkt.length - 20);
    assert.equal(internetChecksum(pkt, 20, pkt.length - 20, pseudo), 0);
    assert.equal(run(patched(pkt, { 19: 3 }), "gue").verdict, "bad-udp-checksum");
  });
});

describe("fuzzed mutations", () => {
  const seeds: [TunnelType, Uint8Array][] = [
    ["ipip", ipip(DIRECTOR, RS, echo)],
    ["gue", gue(DIRECTOR, RS, echo, { udpChecksum: true })],
    [
      "gue",
      gue(DIRECTOR, RS, tcpSyn(CLIENT, VIP, 1, 80, true), { remcsum: { start: 20, offset: 16 } }),
    ],
    ["gre", gre(DIRECTOR, RS, echo, { checksum: true })],
  ];
  test("never throw; an injected inner packet lies inside what was received", () => {
    const rng = new Rng(15);
    const out = new Decapsulated();
    for (let i = 0; i < 20000; i++) {
      const [type, seed] = seeds[i % seeds.length]!;
      const buf = seed.slice();
      for (let m = 1 + rng.int(4); m > 0; m--) buf[rng.int(buf.length)] = rng.u32() & 0xff;
      if (rng.int(2) === 0) refreshIpChecksum(buf, 0);
      const length = rng.int(4) === 0 ? rng.int(buf.length + 1) : buf.length;
      const verdict = decapsulate(buf, length, type, policy(), out);
      assert.ok(verdict >= 0 && verdict < VERDICT_NAMES.length);
      if (verdict === Verdict.INJECT) {
        assert.ok(out.innerOffset >= 20 && out.innerOffset + out.innerLength <= length);
        assert.equal(internetChecksum(buf, out.innerOffset, (buf[out.innerOffset]! & 15) * 4), 0);
      }
    }
  });
});
