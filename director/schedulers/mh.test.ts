import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Destination } from "../service/types.ts";
import { MaglevHashingScheduler } from "./mh.ts";
import { CLIENT, dests, service } from "./test-support.ts";

function shares(s: MaglevHashingScheduler, list: Destination[]): number[] {
  const counts = list.map(() => 0);
  for (let i = 0; i < s.tableSize; i++) {
    const d = s.slot(i);
    assert.ok(d !== null, `slot ${i} empty`);
    counts[list.indexOf(d)]++;
  }
  return counts;
}

describe("mh", () => {
  it("uses the kernel's default table size (index 12: 4093) and accepts 8..17", () => {
    assert.equal(new MaglevHashingScheduler().tableSize, 4093);
    assert.equal(new MaglevHashingScheduler([], { tableIndex: 8 }).tableSize, 251);
    assert.equal(new MaglevHashingScheduler([], { tableIndex: 17 }).tableSize, 131071);
    assert.throws(() => new MaglevHashingScheduler([], { tableIndex: 7 }), /out of range/);
  });

  // Population: each round, every destination claims `turns` = weight/gcd slots (>> shift).
  const cases = [
    // 251 slots, rounds of 1+2+3 = 6: 41 full rounds = 246 slots, then A 1, B 2, C 2 → full.
    { name: "weights 1,2,3 in 251 slots", index: 8, weights: [1, 2, 3], want: [42, 84, 125] },
    // gcd 10 → turns 1,2,3: the same table shares.
    { name: "gcd is divided out", index: 8, weights: [10, 20, 30], want: [42, 84, 125] },
    // 251 = 62 rounds of 4 + 3 → 63 each for the first three, 62 for D.
    { name: "equal weights", index: 8, weights: [1, 1, 1, 1], want: [63, 63, 63, 62] },
    // weight/gcd = 1000: fls(1000) = 10, table bits = 8/2 = 4 → shift 6; turns 1>>6 → 1
    // (non-zero weight keeps one turn), 1000>>6 = 15. Rounds of 16: 15 full rounds = 240,
    // then A 1, B 10 → A 16, B 235.
    { name: "large weights are shifted down", index: 8, weights: [1, 1000], want: [16, 235] },
    // Default table, bits 6: 4093 = 682 rounds of 6 + 1 → A 683, B 1364, C 2046.
    { name: "default table 4093", index: 12, weights: [1, 2, 3], want: [683, 1364, 2046] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const svc = service(dests(c.weights.map((w) => ({ w }))));
      const s = new MaglevHashingScheduler([], { tableIndex: c.index });
      s.update(svc);
      assert.deepEqual(shares(s, svc.destinations), c.want);
    });
  }

  it("a server added with weight 0 gets no slots; a quiesced one keeps its slots", () => {
    const svc = service(dests([{ w: 1 }, { w: 1 }, { w: 0 }]));
    const s = new MaglevHashingScheduler([], { tableIndex: 8 });
    s.update(svc);
    assert.deepEqual(shares(s, svc.destinations), [126, 125, 0]);

    svc.destinations[2].weight = 1; // now it joins
    s.update(svc);
    const before = Array.from({ length: s.tableSize }, (_, i) => s.slot(i));
    assert.deepEqual(shares(s, svc.destinations), [84, 84, 83]);
    svc.destinations[2].weight = 0; // quiesce: last_weight keeps its slots
    s.update(svc);
    const after = Array.from({ length: s.tableSize }, (_, i) => s.slot(i));
    assert.deepEqual(after, before);
  });

  it("maps a source to the same server and spreads sources by weight", () => {
    const svc = service(dests([{ w: 1 }, { w: 2 }, { w: 1 }]));
    const s = new MaglevHashingScheduler();
    s.update(svc);
    const counts = [0, 0, 0];
    for (let i = 0; i < 20000; i++) {
      const src = (0xc6336400 + i * 7919) >>> 0;
      const d = s.schedule(svc, src, 1000 + i, svc.addr, 80)!;
      assert.equal(s.schedule(svc, src, 5000 + i, svc.addr, 80), d, "port ignored");
      counts[svc.destinations.indexOf(d)]++;
    }
    const expected = [0.25, 0.5, 0.25];
    counts.forEach((n, i) =>
      assert.ok(Math.abs(n / 20000 - expected[i]) < 0.03, `counts ${counts}`)
    );
  });

  it("removing a server moves few of the other servers' slots", () => {
    const list = dests([{}, {}, {}, {}, {}, {}, {}, {}]);
    const svc = service(list.slice());
    const s = new MaglevHashingScheduler();
    s.update(svc);
    const before = Array.from({ length: s.tableSize }, (_, i) => s.slot(i));
    const removed = svc.destinations.splice(3, 1)[0];
    removed.available = false;
    s.update(svc);
    let kept = 0;
    let moved = 0;
    for (let i = 0; i < s.tableSize; i++) {
      if (before[i] === removed) {
        assert.notEqual(s.slot(i), removed);
        continue;
      }
      if (s.slot(i) === before[i]) kept++;
      else moved++;
    }
    // Modulo hashing would move about 7/8 of them; Maglev keeps nearly all.
    assert.ok(moved / (kept + moved) < 0.1, `moved ${moved} of ${kept + moved}`);
  });

  it("mh-port spreads one client's ports; mh-fallback finds another server", () => {
    const svc = service(dests([{}, {}, {}]), ["mh-port"]);
    const s = new MaglevHashingScheduler(["mh-port"]);
    s.update(svc);
    const seen = new Set<unknown>();
    for (let port = 1024; port < 1074; port++) {
      seen.add(s.schedule(svc, CLIENT, port, svc.addr, 80));
    }
    assert.equal(seen.size, 3);

    const plain = new MaglevHashingScheduler();
    const fb = new MaglevHashingScheduler(["mh-fallback"]);
    const svc2 = service(dests([{}, {}, {}]));
    plain.update(svc2);
    fb.update(svc2);
    for (let i = 0; i < 30; i++) {
      const src = (CLIENT + i * 104729) >>> 0;
      const home = plain.schedule(svc2, src, 1, svc2.addr, 80)!;
      assert.equal(fb.schedule(svc2, src, 1, svc2.addr, 80), home);
      home.overloaded = true;
      assert.equal(plain.schedule(svc2, src, 1, svc2.addr, 80), null);
      const other = fb.schedule(svc2, src, 1, svc2.addr, 80);
      assert.ok(other !== null && other !== home);
      assert.equal(fb.schedule(svc2, src, 1, svc2.addr, 80), other, "fallback is deterministic");
      home.overloaded = false;
    }
  });

  it("no servers, or none with weight: empty table", () => {
    const s = new MaglevHashingScheduler([], { tableIndex: 8 });
    const svc = service(dests([{ w: 0 }]));
    s.update(svc);
    assert.equal(s.slot(0), null);
    assert.equal(s.schedule(svc, CLIENT, 1, svc.addr, 80), null);
  });
});
