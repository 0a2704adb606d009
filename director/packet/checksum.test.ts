// Checksum arithmetic against a naive reference, and incremental updates against full
// recomputation on seeded random packets.
//
// Ones' complement zero has two forms, 0x0000 and 0xFFFF; a receiver accepts either in a
// checksum field because both make the verified sum fold to 0xFFFF. What is asserted here:
// - A full computation over data that is not all zero (every TCP/UDP pseudo-header holds a
//   protocol number, every IPv4 header a version) yields 0x0000..0xFFFE, never 0xFFFF.
// - RFC 1624 eqn. 3 applied to such a canonical field yields exactly the full result, 0x0000
//   included (eqn. 2 of RFC 1141 would give 0xFFFF there).
// - From the non-canonical field 0xFFFF, eqn. 3 yields the canonical result too, except when
//   ~m and m' are also all zero (m = 0xFFFF → m' = 0x0000): then it keeps 0xFFFF, which is
//   legitimately equal to a full result of 0x0000 and nothing else.
// - UDP: a stored 0 means "no checksum" and stays 0; otherwise stored values are 1..0xFFFF
//   (computed 0 is sent as 0xFFFF), so incremental and full agree exactly after that rule.
// - NEEDS_CSUM: the kernel finishes with csum_fold(...) ?: CSUM_MANGLED_0, i.e. a computed
//   0 is sent as 0xFFFF for TCP too; compared with a full TCP result 0x0000 that is the one
//   legitimate difference, asserted as exactly that.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  checksumReplace16,
  checksumReplace32,
  foldSum,
  internetChecksum,
  partialReplace16,
  partialReplace32,
  pseudoHeaderSum,
  sumBytes,
  udpChecksumReplace16,
  udpChecksumReplace32,
} from "./checksum.ts";
import {
  buildPacket,
  get32,
  IP,
  put16,
  put32,
  refFold,
  refIpChecksum,
  refL4Sum,
  Rng,
  u16,
  words,
} from "./test-support.ts";

const SEED = Number(process.env.CHECKSUM_SEED ?? 0x1624);

describe("sumBytes / foldSum / internetChecksum", () => {
  it("matches the RFC 1071 worked example", () => {
    const b = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    assert.equal(sumBytes(b, 0, 8, 0), 0x2ddf0);
    assert.equal(foldSum(0x2ddf0), 0xddf2);
    assert.equal(internetChecksum(b, 0, 8), 0x220d);
  });

  it("computes a known IPv4 header checksum (0xb861)", () => {
    const h = Uint8Array.from([
      0x45,
      0x00,
      0x00,
      0x73,
      0x00,
      0x00,
      0x40,
      0x00,
      0x40,
      0x11,
      0x00,
      0x00,
      0xc0,
      0xa8,
      0x00,
      0x01,
      0xc0,
      0xa8,
      0x00,
      0xc7,
    ]);
    assert.equal(internetChecksum(h, 0, 20), 0xb861);
    h[10] = 0xb8;
    h[11] = 0x61;
    assert.equal(foldSum(sumBytes(h, 0, 20, 0)), 0xffff, "a correct header verifies");
  });

  it("agrees with the reference on random ranges, odd lengths and big initial sums", () => {
    const rng = new Rng(SEED);
    const buf = new Uint8Array(70000);
    rng.bytes(buf, 0, buf.length);
    for (let i = 0; i < 3000; i++) {
      const off = rng.int(1000);
      const len = i < 100 ? 65536 - rng.int(3) : rng.int(1500);
      const initial = rng.int(4) === 0 ? rng.u32() * 0x10000 + rng.u32() : rng.int(0x30000);
      const sum = sumBytes(buf, off, len, initial);
      const ref = refFold([...words(buf, off, len), initial % 0xffff]);
      // A fold in 1..0xffff is unique per residue mod 0xffff; only an all-zero sum folds to 0.
      assert.equal(foldSum(sum), ref, `seed ${SEED} iteration ${i}`);
      assert.equal(internetChecksum(buf, off, len, initial), ~ref & 0xffff);
    }
  });

  it("folds sums up to 2^53 by their residue mod 0xffff", () => {
    const rng = new Rng(SEED + 1);
    const cases = [0, 1, 0xffff, 0x10000, 0xffffffff, 0x100000000, 2 ** 53 - 1];
    for (let i = 0; i < 5000; i++) cases.push(rng.u32() * 0x200000 + rng.int(0x200000));
    for (const n of cases) {
      const f = foldSum(n);
      const expected = n === 0 ? 0 : (n % 0xffff) || 0xffff;
      assert.equal(f, expected, `fold(${n})`);
    }
  });

  it("clamps out-of-range input instead of returning NaN", () => {
    const b = Uint8Array.from([1, 2, 3]);
    assert.equal(sumBytes(b, 0, 10, 5), 5 + 0x0102 + 0x0300);
    assert.equal(sumBytes(b, 7, 4, 5), 5);
    assert.equal(sumBytes(b, 1, -4, 5), 5);
  });

  it("pseudoHeaderSum equals the sum of the pseudo-header words", () => {
    const rng = new Rng(SEED + 2);
    for (let i = 0; i < 2000; i++) {
      const src = rng.u32();
      const dst = rng.u32();
      const proto = rng.int(256);
      const len = rng.int(0x10000);
      const ref = refFold([src >>> 16, src & 0xffff, dst >>> 16, dst & 0xffff, proto, len]);
      assert.equal(foldSum(pseudoHeaderSum(src, dst, proto, len)), ref);
    }
  });
});

describe("RFC 1624 word updates", () => {
  it("gives 0x0000 where RFC 1141 eqn. 2 gives 0xFFFF (RFC 1624 section 4)", () => {
    assert.equal(checksumReplace16(0xdd2f, 0x5555, 0x3285), 0x0000);
  });

  it("keeps the non-canonical 0xFFFF only for m = 0xFFFF -> m' = 0", () => {
    assert.equal(checksumReplace16(0xffff, 0xffff, 0), 0xffff);
    assert.equal(checksumReplace32(0xffff, 0xffffffff, 0), 0xffff);
    assert.equal(checksumReplace16(0x0000, 0xffff, 0), 0x0000);
    assert.equal(udpChecksumReplace16(0xffff, 0xffff, 0), 0xffff);
  });

  it("equals a full recomputation on random word vectors heavy in 0x0000/0xFFFF", () => {
    const rng = new Rng(SEED + 3);
    const word = () => {
      const k = rng.int(4);
      return k === 0 ? 0 : k === 1 ? 0xffff : rng.int(0x10000);
    };
    for (let i = 0; i < 50000; i++) {
      // Word 0 is a fixed non-zero word, like the protocol number in the pseudo-header.
      const data = [6, word(), word(), word(), word()];
      const hc = ~refFold(data) & 0xffff;
      const at = 1 + rng.int(3);
      const m = data[at]!;
      const m2 = word();
      const m3 = word();
      const old32 = (data[at]! * 0x10000 + data[at + 1]!) >>> 0;
      const data16 = data.slice();
      data16[at] = m2;
      const full16 = ~refFold(data16) & 0xffff;
      assert.equal(checksumReplace16(hc, m, m2), full16, `seed ${SEED + 3} iteration ${i}`);
      // Same change starting from the other zero, when the field was canonical 0x0000.
      if (hc === 0) {
        const r = checksumReplace16(0xffff, m, m2);
        assert.equal(r, m === 0xffff && m2 === 0 ? 0xffff : full16);
      }
      const data32 = data.slice();
      data32[at] = m2;
      data32[at + 1] = m3;
      const full32 = ~refFold(data32) & 0xffff;
      assert.equal(checksumReplace32(hc, old32, (m2 * 0x10000 + m3) >>> 0), full32);
      // UDP: field 0xffff stands for a computed 0.
      const udpField = hc || 0xffff;
      assert.equal(udpChecksumReplace16(udpField, m, m2), full16 || 0xffff);
      assert.equal(
        udpChecksumReplace32(udpField, old32, (m2 * 0x10000 + m3) >>> 0),
        full32 || 0xffff,
      );
      assert.equal(udpChecksumReplace16(0, m, m2), 0);
      assert.equal(udpChecksumReplace32(0, old32, (m2 * 0x10000 + m3) >>> 0), 0);
      // Partial sums: uncomplemented, same residue as the full sum of the new data.
      const p = refFold(data);
      const p16 = partialReplace16(p, m, m2);
      assert.equal(p16 % 0xffff, refFold(data16) % 0xffff);
      assert.ok(p16 >= 0 && p16 <= 0xffff);
      const p32 = partialReplace32(p, old32, (m2 * 0x10000 + m3) >>> 0);
      assert.equal(p32 % 0xffff, refFold(data32) % 0xffff);
    }
  });
});

/** Where the L4 checksum field is in a built packet. */
function csumAt(buf: Uint8Array): number {
  const l4 = IP + (buf[IP]! & 15) * 4;
  return l4 + (buf[IP + 9] === 6 ? 16 : 6);
}
function l4Length(buf: Uint8Array): number {
  return u16(buf, IP + 2) - (buf[IP]! & 15) * 4;
}
/** The reference full L4 checksum as it goes on the wire (UDP: computed 0 → 0xffff). */
function fullL4(buf: Uint8Array): number {
  const c = ~refL4Sum(buf, csumAt(buf), l4Length(buf)) & 0xffff;
  return buf[IP + 9] === 17 && c === 0 ? 0xffff : c;
}
/**
 * Adjusts the first payload word so that the full L4 checksum computes to 0x0000 (stored as
 * 0xffff for UDP), then stores the full checksum.
 */
function forceZeroChecksum(buf: Uint8Array): void {
  const l4 = IP + (buf[IP]! & 15) * 4;
  const word = l4 + (buf[IP + 9] === 6 ? (buf[l4 + 12]! >> 4) * 4 : 8);
  const s = refL4Sum(buf, csumAt(buf), l4Length(buf));
  put16(buf, word, refFold([u16(buf, word), 0xffff - s]));
  assert.equal(~refL4Sum(buf, csumAt(buf), l4Length(buf)) & 0xffff, 0);
  put16(buf, csumAt(buf), fullL4(buf));
}

interface Rewrite {
  addrAt: number; // IP + 12 (src) or IP + 16 (dst)
  portAt: number; // l4 + 0 or l4 + 2
  addr: number;
  port: number;
}
function randomRewrite(rng: Rng, buf: Uint8Array): Rewrite {
  const l4 = IP + (buf[IP]! & 15) * 4;
  const inbound = rng.int(2) === 0;
  const k = rng.int(8);
  const addrAt = inbound ? IP + 16 : IP + 12;
  const portAt = l4 + (inbound ? 2 : 0);
  // Mostly random; sometimes the all-ones/all-zero values that sit on the ±0 boundary.
  const addr = k === 0 ? 0xffffffff : k === 1 ? 0 : k === 2 ? get32(buf, addrAt) : rng.u32();
  const port = k === 3 ? 0xffff : k === 4 ? 0 : k === 5 ? u16(buf, portAt) : rng.int(0x10000);
  return { addrAt, portAt, addr, port };
}
/** Writes the new address/port and updates the checksums incrementally. */
function applyIncremental(buf: Uint8Array, r: Rewrite): void {
  const proto = buf[IP + 9];
  const oldAddr = get32(buf, r.addrAt);
  const oldPort = u16(buf, r.portAt);
  put32(buf, r.addrAt, r.addr);
  put16(buf, r.portAt, r.port);
  put16(buf, IP + 10, checksumReplace32(u16(buf, IP + 10), oldAddr, r.addr));
  const at = csumAt(buf);
  const c = u16(buf, at);
  if (proto === 6) {
    put16(buf, at, checksumReplace16(checksumReplace32(c, oldAddr, r.addr), oldPort, r.port));
  } else {
    put16(buf, at, udpChecksumReplace16(udpChecksumReplace32(c, oldAddr, r.addr), oldPort, r.port));
  }
}

describe("incremental NAT rewrite vs full recomputation", () => {
  it("agrees on 12,000 random TCP/UDP packets with odd lengths and forced ±0 edges", () => {
    const rng = new Rng(SEED + 4);
    const tally = { before0: 0, after0: 0, beforeFfff: 0, ffffKept: 0, udpNone: 0 };
    for (let i = 0; i < 12000; i++) {
      const ctx = `seed ${SEED + 4} packet ${i}`;
      const proto = rng.int(2) === 0 ? 6 : 17;
      const payloadLen = 2 + (i % 7 === 0 ? rng.int(9000) : rng.int(300)); // odd and even
      const buf = buildPacket(rng, {
        proto,
        payloadLen,
        ipOptionsLen: rng.int(3) === 0 ? 4 * rng.int(11) : 0,
        tcpOptionsLen: 4 * rng.int(11),
      });
      const r = randomRewrite(rng, buf);
      if (rng.int(6) === 0) {
        // Old address and port all ones, new ones often all zero: every word 0xFFFF -> 0.
        put32(buf, r.addrAt, 0xffffffff);
        put16(buf, r.portAt, 0xffff);
        put16(buf, IP + 10, refIpChecksum(buf));
        put16(buf, csumAt(buf), fullL4(buf));
        if (rng.int(2) === 0) {
          r.addr = 0;
          r.port = 0;
        }
      }
      const mode = rng.int(6);
      if (mode === 0) {
        forceZeroChecksum(buf); // checksum 0x0000 (UDP: 0xffff) before the rewrite
        tally.before0++;
      } else if (mode === 1) {
        // Make the rewritten packet's checksum 0x0000: force it there, then undo the rewrite.
        const undo: Rewrite = {
          addrAt: r.addrAt,
          portAt: r.portAt,
          addr: get32(buf, r.addrAt),
          port: u16(buf, r.portAt),
        };
        put32(buf, r.addrAt, r.addr);
        put16(buf, r.portAt, r.port);
        forceZeroChecksum(buf);
        put32(buf, undo.addrAt, undo.addr);
        put16(buf, undo.portAt, undo.port);
        put16(buf, IP + 10, refIpChecksum(buf));
        put16(buf, csumAt(buf), fullL4(buf));
        tally.after0++;
      } else if (mode === 2 && proto === 17) {
        put16(buf, csumAt(buf), 0); // UDP without checksum
        tally.udpNone++;
      }
      let nonCanonical = false;
      if (proto === 6 && u16(buf, csumAt(buf)) === 0 && rng.int(2) === 0) {
        put16(buf, csumAt(buf), 0xffff); // the other zero: still verifies
        assert.equal(refFold([refL4Sum(buf, csumAt(buf), l4Length(buf)), 0xffff]), 0xffff);
        nonCanonical = true;
        tally.beforeFfff++;
      }
      const udpNone = proto === 17 && u16(buf, csumAt(buf)) === 0;
      const oldAddr = get32(buf, r.addrAt);
      const oldPort = u16(buf, r.portAt);
      applyIncremental(buf, r);
      assert.equal(u16(buf, IP + 10), refIpChecksum(buf), `${ctx}: IP header checksum`);
      const got = u16(buf, csumAt(buf));
      if (udpNone) {
        assert.equal(got, 0, `${ctx}: UDP "no checksum" stays 0`);
        continue;
      }
      const full = fullL4(buf);
      if (mode === 1) assert.equal(full, proto === 6 ? 0 : 0xffff, `${ctx}: forced after`);
      // The one legitimate 0xFFFF-for-0x0000: non-canonical input and every word of both
      // updates going 0xFFFF -> 0x0000 (each eqn. 3 step then sums to 0 and keeps 0xFFFF;
      // any other step, even an unchanged value, canonicalises to 0x0000).
      const edge = nonCanonical && oldAddr === 0xffffffff && r.addr === 0 &&
        oldPort === 0xffff && r.port === 0;
      if (edge) {
        assert.equal(full, 0);
        assert.equal(got, 0xffff, `${ctx}: kept the equivalent 0xFFFF`);
        tally.ffffKept++;
      } else {
        assert.equal(got, full, `${ctx}: L4 checksum`);
      }
      // Whatever the representation, the rewritten packet verifies.
      assert.equal(refFold([refL4Sum(buf, csumAt(buf), l4Length(buf)), got]), 0xffff, ctx);
    }
    for (const [k, n] of Object.entries(tally)) {
      assert.ok(n > 20, `too few ${k} cases: ${n}`);
    }
  });

  it("updates a partial (NEEDS_CSUM) sum that the kernel then finishes correctly", () => {
    const rng = new Rng(SEED + 5);
    let finishedZero = 0;
    for (let i = 0; i < 10000; i++) {
      const ctx = `seed ${SEED + 5} packet ${i}`;
      const proto = rng.int(2) === 0 ? 6 : 17;
      const buf = buildPacket(rng, {
        proto,
        payloadLen: rng.int(i % 10 === 0 ? 60000 : 400),
        tcpOptionsLen: 4 * rng.int(11),
        partial: true,
      });
      const r = randomRewrite(rng, buf);
      if (rng.int(4) === 0) {
        // Make the finished checksum after the rewrite 0: force, then undo the rewrite.
        const keepAddr = get32(buf, r.addrAt);
        const keepPort = u16(buf, r.portAt);
        put32(buf, r.addrAt, r.addr);
        put16(buf, r.portAt, r.port);
        if (
          l4Length(buf) - (proto === 6 ? (buf[IP + (buf[IP]! & 15) * 4 + 12]! >> 4) * 4 : 8) >= 2
        ) {
          forceZeroChecksum(buf);
        }
        put32(buf, r.addrAt, keepAddr);
        put16(buf, r.portAt, keepPort);
        const pseudo = refFold([...words(buf, IP + 12, 8), proto, l4Length(buf)]);
        put16(buf, csumAt(buf), pseudo);
      }
      const at = csumAt(buf);
      // The director's NEEDS_CSUM rewrite: addresses through the partial sum, ports only in
      // the data (the kernel sums them when it finishes).
      const oldAddr = get32(buf, r.addrAt);
      put32(buf, r.addrAt, r.addr);
      put16(buf, r.portAt, r.port);
      put16(buf, at, partialReplace32(u16(buf, at), oldAddr, r.addr));
      // The kernel finishing (skb_checksum_help): sum from csum_start with the partial in the
      // field, complement, 0 → 0xffff (CSUM_MANGLED_0).
      const csumStart = IP + u16(buf, 6);
      assert.equal(csumStart + u16(buf, 8), at);
      const finished = (~foldSum(sumBytes(buf, csumStart, buf.length - csumStart, 0)) & 0xffff) ||
        0xffff;
      const full = ~refL4Sum(buf, at, l4Length(buf)) & 0xffff;
      if (full === 0) {
        finishedZero++;
        assert.equal(finished, 0xffff, `${ctx}: computed 0 is sent as 0xffff`);
      } else {
        assert.equal(finished, full, ctx);
      }
    }
    assert.ok(finishedZero > 100, `too few zero cases: ${finishedZero}`);
  });
});
