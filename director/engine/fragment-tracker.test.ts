// FragmentTracker: remember/lookup/forget, expiry on a fake clock, capacity eviction of the
// oldest, 100k random operations against a Map-based reference; rewriteFragmentAddresses.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { PacketError, PacketView } from "../packet/packet.ts";
import { buildPacket, get32, IP, refIpChecksum, Rng, u16 } from "../packet/test-support.ts";
import { FragmentTracker, rewriteFragmentAddresses } from "./fragment-tracker.ts";

const SEED = Number(process.env.PACKET_SEED ?? 0x465247);
const CLIENT = 0xc6336402; // 198.51.100.2
const VIP = 0xcb007105; // 203.0.113.5
const RS = 0xac100002; // 172.16.0.2

describe("FragmentTracker", () => {
  it("finds the slot of a remembered datagram, and only of that one", () => {
    const t = new FragmentTracker(64, 30_000);
    t.remember(CLIENT, VIP, 17, 0x1234, 7, 1000, 1);
    t.remember(CLIENT, VIP, 6, 0x1234, 8, 1000, 2);
    t.remember(RS, CLIENT, 17, 0x1234, 9, 1000);
    assert.equal(t.lookup(CLIENT, VIP, 17, 0x1234, 1001), 7);
    assert.equal(t.lastTag, 1);
    assert.equal(t.lookup(CLIENT, VIP, 6, 0x1234, 1001), 8);
    assert.equal(t.lastTag, 2);
    assert.equal(t.lookup(RS, CLIENT, 17, 0x1234, 1001), 9);
    assert.equal(t.lookup(CLIENT, VIP, 17, 0x1235, 1001), -1);
    assert.equal(t.lookup(VIP, CLIENT, 17, 0x1234, 1001), -1);
    assert.equal(t.lookup(CLIENT, RS, 17, 0x1234, 1001), -1);
    assert.equal(t.size, 3);
  });

  it("handles addresses above 2^31 and ids at the edges", () => {
    const t = new FragmentTracker(8, 1000);
    t.remember(0xfffffffe, 0x80000000, 255, 0xffff, 3, 0);
    t.remember(0xfffffffe, 0x80000000, 255, 0, 4, 0);
    assert.equal(t.lookup(0xfffffffe, 0x80000000, 255, 0xffff, 1), 3);
    assert.equal(t.lookup(0xfffffffe, 0x80000000, 255, 0, 1), 4);
  });

  it("forgets on request and replaces a remembered key", () => {
    const t = new FragmentTracker(8, 30_000);
    t.remember(CLIENT, VIP, 17, 1, 5, 0);
    t.forget(CLIENT, VIP, 17, 1);
    assert.equal(t.lookup(CLIENT, VIP, 17, 1, 0), -1);
    assert.equal(t.size, 0);
    t.forget(CLIENT, VIP, 17, 1); // absent: no-op
    t.remember(CLIENT, VIP, 17, 2, 5, 0);
    t.remember(CLIENT, VIP, 17, 2, 6, 10);
    assert.equal(t.size, 1);
    assert.equal(t.lookup(CLIENT, VIP, 17, 2, 20), 6);
  });

  it("expires entries ttlMs after remember (fake clock)", () => {
    const t = new FragmentTracker(8, 30_000);
    t.remember(CLIENT, VIP, 17, 1, 5, 1_000);
    assert.equal(t.lookup(CLIENT, VIP, 17, 1, 30_999), 5);
    assert.equal(t.lookup(CLIENT, VIP, 17, 1, 31_000), -1);
    assert.equal(t.size, 0, "swept on lookup");
    assert.throws(() => new FragmentTracker(0, 1), /positive integer/);
    assert.throws(() => new FragmentTracker(4, 0), /positive/);
  });

  it("evicts the oldest entry when full and counts only live evictions", () => {
    const t = new FragmentTracker(4, 1_000);
    for (let id = 0; id < 4; id++) t.remember(CLIENT, VIP, 17, id, id, 0);
    t.remember(CLIENT, VIP, 17, 4, 4, 10);
    assert.equal(t.lookup(CLIENT, VIP, 17, 0, 10), -1);
    for (let id = 1; id <= 4; id++) assert.equal(t.lookup(CLIENT, VIP, 17, id, 10), id);
    assert.equal(t.evictions, 1);
    assert.equal(t.size, 4);
    // Entries 1..3 expire at 1000; reusing their places is not an eviction.
    for (let id = 5; id < 8; id++) t.remember(CLIENT, VIP, 17, id, id, 2_000);
    assert.equal(t.evictions, 1);
    assert.equal(t.lookup(CLIENT, VIP, 17, 4, 1_009), 4);
    t.clear();
    assert.equal(t.size, 0);
    assert.equal(t.lookup(CLIENT, VIP, 17, 5, 2_000), -1);
  });

  it("agrees with a Map-based reference over 100k random operations", () => {
    const rng = new Rng(SEED);
    for (const [capacity, ttl] of [[16, 5_000], [64, 20_000], [1, 100]] as const) {
      const t = new FragmentTracker(capacity, ttl);
      interface Ref {
        slot: number;
        tag: number;
        expires: number;
        seq: number;
      }
      const ref = new Map<string, Ref>();
      const ringKey: (string | undefined)[] = new Array(capacity);
      let calls = 0;
      let evictions = 0;
      let now = 0;
      const srcs = [CLIENT, RS, 0xffffffff, 1];
      const dsts = [VIP, CLIENT, 0x80000001];
      let hits = 0;
      const recent: [number, number, number, number][] = [];
      for (let i = 0; i < 100_000 / 3; i++) {
        now += rng.int(100) === 0 ? rng.int(ttl) : rng.int(ttl / 500);
        let src = srcs[rng.int(srcs.length)]!;
        let dst = dsts[rng.int(dsts.length)]!;
        let proto = rng.int(2) === 0 ? 6 : 17;
        let id = rng.int(capacity < 8 ? 1 : 24);
        // Later fragments mostly follow recent first fragments.
        if (rng.int(2) === 0 && recent.length > 0) {
          [src, dst, proto, id] = recent[rng.int(recent.length)]!;
        }
        const key = `${src}/${dst}/${proto}/${id}`;
        const op = rng.int(10);
        if (op < 4) {
          const slot = rng.int(1 << 20);
          const tag = rng.int(4);
          t.remember(src, dst, proto, id, slot, now, tag);
          ref.delete(key);
          // The ring place this call takes held call number calls - capacity.
          const victim = ringKey[calls % capacity];
          if (victim !== undefined) {
            const v = ref.get(victim);
            if (v !== undefined && v.seq === calls - capacity) {
              if (now < v.expires) evictions++;
              ref.delete(victim);
            }
          }
          ringKey[calls % capacity] = key;
          recent[calls % 8] = [src, dst, proto, id];
          ref.set(key, { slot, tag, expires: now + ttl, seq: calls });
          calls++;
        } else if (op < 9) {
          const r = ref.get(key);
          const expected = r !== undefined && now < r.expires ? r.slot : -1;
          if (r !== undefined && now >= r.expires) ref.delete(key);
          const got = t.lookup(src, dst, proto, id, now);
          assert.equal(got, expected, `op ${i} lookup ${key}`);
          if (expected !== -1) {
            hits++;
            assert.equal(t.lastTag, r!.tag);
          }
        } else {
          t.forget(src, dst, proto, id);
          ref.delete(key);
        }
        assert.ok(t.size <= capacity);
      }
      assert.equal(t.evictions, evictions, `evictions, capacity ${capacity}`);
      assert.ok(hits > 1000 && evictions > 100, `hits ${hits}, evictions ${evictions}`);
    }
  });
});

describe("rewriteFragmentAddresses", () => {
  it("changes addresses and keeps the IPv4 checksum valid, payload untouched", () => {
    const rng = new Rng(SEED + 1);
    for (let i = 0; i < 2000; i++) {
      const fragWord = rng.int(2) === 0 ? 0x2000 | (1 + rng.int(0x1ffe)) : 1 + rng.int(0x1ffe);
      const buf = buildPacket(rng, {
        proto: rng.int(2) === 0 ? 6 : 17,
        payloadLen: rng.int(1400),
        ipOptionsLen: 4 * rng.int(11),
        src: CLIENT,
        dst: VIP,
        fragWord,
      });
      const before = buf.slice();
      const view = new PacketView();
      assert.equal(view.parse(buf, buf.length), PacketError.OK);
      assert.equal(view.l4Present, false, "non-first fragment");
      const newSrc = rng.int(3) === 0 ? null : rng.u32();
      const newDst = rng.int(3) === 0 ? null : rng.u32();
      rewriteFragmentAddresses(view, newSrc, newDst);
      assert.equal(get32(buf, IP + 12), newSrc ?? CLIENT);
      assert.equal(get32(buf, IP + 16), newDst ?? VIP);
      // Same complemented value as a fresh computation, or its ±0 twin.
      const c = u16(buf, IP + 10);
      const want = refIpChecksum(buf);
      assert.ok(c === want || (c ^ want) === 0xffff && (c === 0 || c === 0xffff), `checksum`);
      for (let b = 0; b < buf.length; b++) {
        if (b < IP + 10 || b >= IP + 20) assert.equal(buf[b], before[b]);
      }
    }
  });
});
