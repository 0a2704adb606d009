// ICMP errors about NAT connections: both directions on frag-needed / port-unreachable /
// time-exceeded messages built here with reference checksums, every bind outcome, the
// checksum refusal, and 10k mutated inputs.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { PacketError, PacketView } from "../packet/packet.ts";
import { buildPacket, get32, IP, put16, Rng, u16 } from "../packet/test-support.ts";
import {
  buildIcmpError,
  CLIENT,
  mutate,
  refChecksum,
  refIcmpValid,
  refIpHeaderValid,
  ROUTER_PRIVATE,
  ROUTER_PUBLIC,
  RS,
  VIP,
} from "../replies/reply-test-support.ts";
import {
  EmbeddedPacket,
  ICMP_ERROR_MALFORMED,
  ICMP_ERROR_NONE,
  ICMP_ERROR_RELATED,
  ICMP_ERROR_UNSUPPORTED,
  isTranslatedIcmpError,
  translateIcmpFromRealServer,
  translateIcmpToRealServer,
} from "./icmp-translate.ts";

const SEED = Number(process.env.PACKET_SEED ?? 0x4e4154);
const CPORT = 40000;
const VPORT = 80;
const RPORT = 8000;

/** The IPv4 packet (no vnet header) of a built TUN buffer. */
function ipPacket(tun: Uint8Array): Uint8Array {
  return tun.slice(IP);
}

/** A big client → RS:rport segment with DF, as the director forwarded it (lab MTU case). */
function forwardedToRealServer(rng: Rng, proto: 6 | 17, ipOptionsLen = 0): Uint8Array {
  return ipPacket(buildPacket(rng, {
    proto,
    payloadLen: 1400,
    ipOptionsLen,
    src: CLIENT,
    dst: RS,
    sport: CPORT,
    dport: RPORT,
  }));
}

/** A reply VIP:vport → client, as the director sent it to the client. */
function sentToClient(rng: Rng, proto: 6 | 17): Uint8Array {
  return ipPacket(buildPacket(rng, {
    proto,
    payloadLen: 1400,
    src: VIP,
    dst: CLIENT,
    sport: VPORT,
    dport: CPORT,
  }));
}

function parse(buf: Uint8Array): PacketView {
  const v = new PacketView();
  assert.equal(v.parse(buf, buf.length), PacketError.OK);
  return v;
}

/** Asserts buf and before differ only in the listed byte offsets. */
function onlyChanged(buf: Uint8Array, before: Uint8Array, allowed: Set<number>): void {
  for (let i = 0; i < buf.length; i++) {
    if (!allowed.has(i)) assert.equal(buf[i], before[i], `byte ${i} changed`);
  }
}

function range(from: number, len: number): number[] {
  return Array.from({ length: len }, (_, i) => from + i);
}

describe("EmbeddedPacket.bind", () => {
  const rng = new Rng(SEED);

  it("extracts the quoted protocol, addresses and ports", () => {
    for (const proto of [6, 17] as const) {
      for (const quoteLen of [28, 48, 548]) {
        const quoted = forwardedToRealServer(rng, proto);
        const buf = buildIcmpError(rng, {
          outerSrc: ROUTER_PRIVATE,
          outerDst: CLIENT,
          type: 3,
          code: 4,
          rest: 1400,
          quoted,
          quoteLen,
        });
        const emb = new EmbeddedPacket();
        assert.equal(emb.bind(parse(buf)), true);
        assert.equal(emb.result, ICMP_ERROR_RELATED);
        assert.equal(emb.proto, proto);
        assert.equal(emb.src, CLIENT);
        assert.equal(emb.dst, RS);
        assert.equal(emb.srcPort, CPORT);
        assert.equal(emb.dstPort, RPORT);
        assert.equal(emb.icmpType, 3);
        assert.equal(emb.icmpCode, 4);
        assert.equal(emb.l4Offset, IP + 20 + 8 + 20);
      }
    }
  });

  it("handles quoted IP options and needs only the ports", () => {
    const quoted = forwardedToRealServer(rng, 6, 12);
    const buf = buildIcmpError(rng, {
      outerSrc: RS,
      outerDst: CLIENT,
      type: 3,
      code: 3,
      quoted,
      quoteLen: 32 + 4,
      outerOptionsLen: 8,
    });
    const emb = new EmbeddedPacket();
    assert.equal(emb.bind(parse(buf)), true);
    assert.equal(emb.l4Offset, IP + 28 + 8 + 32);
    assert.equal(emb.dstPort, RPORT);
  });

  it("classifies what it does not translate", () => {
    const emb = new EmbeddedPacket();
    const quoted = forwardedToRealServer(rng, 17);
    const make = (type: number, quoteLen = 28, q = quoted) =>
      parse(
        buildIcmpError(rng, { outerSrc: RS, outerDst: CLIENT, type, code: 0, quoted: q, quoteLen }),
      );
    // Not errors IPVS translates.
    for (const type of [0, 5, 8, 12, 13, 42]) {
      assert.equal(emb.bind(make(type)), false);
      assert.equal(emb.result, ICMP_ERROR_NONE, `type ${type}`);
    }
    for (const type of [3, 4, 11]) assert.ok(isTranslatedIcmpError(type) && emb.bind(make(type)));
    // Not ICMP at all.
    const udp = buildPacket(rng, { proto: 17, payloadLen: 40, src: CLIENT, dst: VIP });
    assert.equal(emb.bind(parse(udp)), false);
    assert.equal(emb.result, ICMP_ERROR_NONE);
    // Quote too short for the ports; quoted header cut; quoted version wrong.
    assert.equal(emb.bind(make(3, 23)), false);
    assert.equal(emb.result, ICMP_ERROR_MALFORMED);
    assert.equal(emb.bind(make(3, 12)), false);
    assert.equal(emb.result, ICMP_ERROR_MALFORMED);
    const v6 = quoted.slice();
    v6[0] = 0x65;
    assert.equal(emb.bind(make(3, 28, v6)), false);
    assert.equal(emb.result, ICMP_ERROR_MALFORMED);
    // Quoted ICMP or a quoted non-first fragment: nothing to look up.
    const qIcmp = quoted.slice();
    qIcmp[9] = 1;
    assert.equal(emb.bind(make(3, 28, qIcmp)), false);
    assert.equal(emb.result, ICMP_ERROR_UNSUPPORTED);
    const qFrag = quoted.slice();
    put16(qFrag, 6, 0x2000 | 185);
    assert.equal(emb.bind(make(3, 28, qFrag)), false);
    assert.equal(emb.result, ICMP_ERROR_UNSUPPORTED);
    // A quoted FIRST fragment has its ports: fine.
    put16(qFrag, 6, 0x2000);
    assert.equal(emb.bind(make(3, 28, qFrag)), true);
    // The ICMP message itself fragmented.
    const first = buildIcmpError(rng, {
      outerSrc: RS,
      outerDst: CLIENT,
      type: 3,
      code: 3,
      quoted,
      quoteLen: 28,
    });
    put16(first, IP + 6, 0x2000);
    put16(first, IP + 10, refChecksum(first, IP, 20, IP + 10));
    assert.equal(emb.bind(parse(first)), false);
    assert.equal(emb.result, ICMP_ERROR_MALFORMED);
    put16(first, IP + 6, 0x0010);
    const later = new PacketView();
    later.parse(first, first.length);
    assert.equal(emb.bind(later), false);
    assert.equal(emb.result, ICMP_ERROR_NONE);
  });
});

describe("translateIcmpFromRealServer (out: private side → client)", () => {
  const rng = new Rng(SEED + 1);

  it("rewrites a router's frag-needed about a forwarded segment (the lab MTU case)", () => {
    for (const proto of [6, 17] as const) {
      for (const quoteLen of [28, 548]) {
        const quoted = forwardedToRealServer(rng, proto);
        const buf = buildIcmpError(rng, {
          outerSrc: ROUTER_PRIVATE,
          outerDst: CLIENT,
          type: 3,
          code: 4,
          rest: 1400,
          quoted,
          quoteLen,
          outerOptionsLen: proto === 6 ? 0 : 4,
        });
        buf[0] = 2; // DATA_VALID: must be cleared
        const before = buf.slice();
        const view = parse(buf);
        const emb = new EmbeddedPacket();
        assert.ok(emb.bind(view));
        assert.equal(translateIcmpFromRealServer(view, emb, VIP, VPORT), true);

        const o = IP;
        const ohl = (buf[o]! & 15) * 4;
        const icmp = o + ohl;
        const q = icmp + 8;
        assert.equal(get32(buf, o + 12), VIP, "outer src");
        assert.equal(get32(buf, o + 16), CLIENT, "outer dst");
        assert.equal(get32(buf, q + 12), CLIENT, "quoted src");
        assert.equal(get32(buf, q + 16), VIP, "quoted dst");
        assert.equal(u16(buf, q + 20), CPORT, "quoted src port");
        assert.equal(u16(buf, q + 22), VPORT, "quoted dst port");
        assert.equal(buf[icmp], 3);
        assert.equal(buf[icmp + 1], 4);
        assert.equal(u16(buf, icmp + 6), 1400, "MTU kept");
        assert.ok(refIpHeaderValid(buf, o), "outer IP checksum");
        assert.ok(refIpHeaderValid(buf, q), "quoted IP checksum");
        assert.ok(refIcmpValid(buf, o), "ICMP checksum");
        for (let i = 0; i < 10; i++) assert.equal(buf[i], 0);
        onlyChanged(
          buf,
          before,
          new Set([
            ...range(0, 10),
            ...range(o + 10, 2),
            ...range(o + 12, 4),
            ...range(icmp + 2, 2),
            ...range(q + 10, 2),
            ...range(q + 16, 4),
            ...range(q + 22, 2),
          ]),
        );
      }
    }
  });

  it("rewrites the real server's own port unreachable (UDP)", () => {
    const quoted = forwardedToRealServer(rng, 17);
    const buf = buildIcmpError(rng, {
      outerSrc: RS,
      outerDst: CLIENT,
      type: 3,
      code: 3,
      quoted,
      quoteLen: 28,
    });
    const view = parse(buf);
    const emb = new EmbeddedPacket();
    assert.ok(emb.bind(view));
    assert.ok(translateIcmpFromRealServer(view, emb, VIP, VPORT));
    assert.equal(get32(buf, IP + 12), VIP);
    assert.equal(get32(buf, IP + 28 + 16), VIP);
    assert.equal(u16(buf, IP + 28 + 22), VPORT);
    assert.ok(refIpHeaderValid(buf, IP) && refIpHeaderValid(buf, IP + 28) && refIcmpValid(buf, IP));
  });

  it("refuses a bad ICMP checksum (packet untouched) unless DATA_VALID vouches", () => {
    const quoted = forwardedToRealServer(rng, 6);
    const buf = buildIcmpError(rng, {
      outerSrc: RS,
      outerDst: CLIENT,
      type: 11,
      code: 0,
      quoted,
      quoteLen: 100,
    });
    buf[IP + 28 + 60] ^= 1; // damage a quoted payload byte
    const before = buf.slice();
    const view = parse(buf);
    const emb = new EmbeddedPacket();
    assert.ok(emb.bind(view));
    assert.equal(translateIcmpFromRealServer(view, emb, VIP, VPORT), false);
    assert.deepEqual(buf, before);
    buf[0] = 2;
    assert.equal(translateIcmpFromRealServer(view, emb, VIP, VPORT), true);
    assert.ok(refIcmpValid(buf, IP));
  });

  it("refuses an unbound or stale EmbeddedPacket", () => {
    const quoted = forwardedToRealServer(rng, 6);
    const buf = buildIcmpError(rng, {
      outerSrc: RS,
      outerDst: CLIENT,
      type: 3,
      code: 3,
      quoted,
      quoteLen: 28,
    });
    const view = parse(buf);
    const emb = new EmbeddedPacket();
    assert.equal(translateIcmpFromRealServer(view, emb, VIP, VPORT), false);
    assert.ok(emb.bind(view));
    const other = buf.slice();
    const otherView = parse(other);
    assert.equal(translateIcmpToRealServer(otherView, emb, RS, RPORT), false);
  });
});

describe("translateIcmpToRealServer (in: client side → real server)", () => {
  const rng = new Rng(SEED + 2);

  it("rewrites a client-side router's frag-needed about a reply", () => {
    for (const proto of [6, 17] as const) {
      const quoted = sentToClient(rng, proto);
      const buf = buildIcmpError(rng, {
        outerSrc: ROUTER_PUBLIC,
        outerDst: VIP,
        type: 3,
        code: 4,
        rest: 1280,
        quoted,
        quoteLen: 548,
      });
      const before = buf.slice();
      const view = parse(buf);
      const emb = new EmbeddedPacket();
      assert.ok(emb.bind(view));
      // The engine's lookup key: findInbound(proto, caddr, cport, vaddr, vport).
      assert.deepEqual([emb.dst, emb.dstPort, emb.src, emb.srcPort], [CLIENT, CPORT, VIP, VPORT]);
      assert.equal(translateIcmpToRealServer(view, emb, RS, RPORT), true);
      const q = IP + 28;
      assert.equal(get32(buf, IP + 12), ROUTER_PUBLIC, "outer src kept");
      assert.equal(get32(buf, IP + 16), RS, "outer dst");
      assert.equal(get32(buf, q + 12), RS, "quoted src");
      assert.equal(get32(buf, q + 16), CLIENT, "quoted dst");
      assert.equal(u16(buf, q + 20), RPORT, "quoted src port");
      assert.equal(u16(buf, q + 22), CPORT, "quoted dst port");
      assert.equal(u16(buf, IP + 26), 1280);
      assert.ok(refIpHeaderValid(buf, IP), "outer IP checksum");
      assert.ok(refIpHeaderValid(buf, q), "quoted IP checksum");
      assert.ok(refIcmpValid(buf, IP), "ICMP checksum");
      onlyChanged(
        buf,
        before,
        new Set([
          ...range(IP + 10, 2),
          ...range(IP + 16, 4),
          ...range(IP + 22, 2),
          ...range(q + 10, 2),
          ...range(q + 12, 4),
          ...range(q + 20, 2),
        ]),
      );
      // Parsed again it is an error about RS:rport → client: the real server's own packet.
      const again = new EmbeddedPacket();
      assert.ok(again.bind(parse(buf)));
      assert.deepEqual([again.src, again.srcPort, again.dst, again.dstPort], [
        RS,
        RPORT,
        CLIENT,
        CPORT,
      ]);
    }
  });

  it("out then in are inverse on the quote (round trip)", () => {
    const quoted = forwardedToRealServer(rng, 6);
    const buf = buildIcmpError(rng, {
      outerSrc: RS,
      outerDst: CLIENT,
      type: 3,
      code: 3,
      quoted,
      quoteLen: 28,
    });
    const orig = buf.slice();
    const view = parse(buf);
    const emb = new EmbeddedPacket();
    assert.ok(emb.bind(view) && translateIcmpFromRealServer(view, emb, VIP, VPORT));
    // The quote's dst now reads VIP:vport; swapping it back restores the original quote.
    const q = IP + 28;
    assert.deepEqual(buf.subarray(q + 12, q + 16), orig.subarray(q + 12, q + 16));
    assert.deepEqual(buf.subarray(q + 24, buf.length), orig.subarray(q + 24));
  });
});

describe("ICMP translation fuzz", () => {
  it("survives 10k mutated inputs: refused, or translated with valid checksums", () => {
    const rng = new Rng(SEED + 3);
    const emb = new EmbeddedPacket();
    const view = new PacketView();
    let translated = 0;
    for (let i = 0; i < 10_000; i++) {
      const quoted = rng.int(2) === 0 ? forwardedToRealServer(rng, 6) : sentToClient(rng, 17);
      const buf = buildIcmpError(rng, {
        outerSrc: RS,
        outerDst: CLIENT,
        type: [3, 4, 11][rng.int(3)]!,
        code: rng.int(16),
        quoted,
        quoteLen: 24 + rng.int(100),
      });
      const length = mutate(rng, buf, buf.length);
      if (view.parse(buf, length) !== PacketError.OK) {
        // bind must still not throw on a failed parse.
        emb.bind(view);
        continue;
      }
      if (!emb.bind(view)) continue;
      const ok = rng.int(2) === 0
        ? translateIcmpFromRealServer(view, emb, VIP, VPORT)
        : translateIcmpToRealServer(view, emb, RS, RPORT);
      if (!ok) continue;
      translated++;
      const q = emb.ip.off;
      assert.ok(refIpHeaderValid(buf, IP));
      assert.ok(refIpHeaderValid(buf, q));
      assert.ok(refIcmpValid(buf, IP), "recomputed in full even when DATA_VALID vouched");
      for (let b = 0; b < 10; b++) assert.equal(buf[b], 0);
    }
    assert.ok(translated > 500, `translated ${translated}`);
  });
});
