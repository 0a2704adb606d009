import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TimerWheel } from "./timer-wheel.ts";

/** Deterministic PRNG (mulberry32) so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function collect(wheel: TimerWheel, now: number): number[] {
  const ids: number[] = [];
  const n = wheel.advance(now, (id) => ids.push(id));
  assert.equal(n, ids.length);
  return ids.sort((a, b) => a - b);
}

describe("TimerWheel", () => {
  it("fires at the deadline's tick, never before", () => {
    const w = new TimerWheel(10, 1000, 1024, 0);
    w.schedule(1, 5000);
    w.schedule(2, 5001);
    assert.equal(w.size, 2);
    assert.deepEqual(collect(w, 4999), []);
    assert.deepEqual(collect(w, 5000), [1]);
    assert.deepEqual(collect(w, 5999), []); // 2 is due at 5001, its tick ends at 6000
    assert.deepEqual(collect(w, 6000), [2]);
    assert.equal(w.size, 0);
    assert.equal(w.isScheduled(1), false);
  });

  it("works with a clock that does not start at 0 and ticks off the tick grid", () => {
    const start = 1_700_000_000_123;
    const w = new TimerWheel(4, 100, 64, start);
    w.schedule(0, start + 250);
    assert.deepEqual(collect(w, start + 249), []);
    assert.deepEqual(collect(w, start + 299), []);
    assert.deepEqual(collect(w, start + 300), [0]);
  });

  it("rescheduling moves an entry, both later and earlier", () => {
    const w = new TimerWheel(10, 1000, 1024, 0);
    w.schedule(3, 2000);
    w.schedule(3, 10_000);
    assert.equal(w.size, 1);
    assert.equal(w.expiresAt(3), 10_000);
    assert.deepEqual(collect(w, 9000), []);
    w.schedule(3, 9500);
    assert.deepEqual(collect(w, 9999), []);
    assert.deepEqual(collect(w, 10_000), [3]);
    assert.deepEqual(collect(w, 20_000), []);
  });

  it("cancel removes an entry; cancelling twice or an unscheduled id is harmless", () => {
    const w = new TimerWheel(10, 1000, 16, 0);
    w.schedule(4, 3000);
    w.schedule(5, 3000);
    w.cancel(4);
    w.cancel(4);
    w.cancel(9);
    assert.equal(w.size, 1);
    assert.equal(w.expiresAt(4), -1);
    assert.deepEqual(collect(w, 3000), [5]);
  });

  it("a deadline already past fires on the next tick, not in the processed one", () => {
    const w = new TimerWheel(10, 1000, 16, 0);
    w.advance(5000, () => {});
    w.schedule(1, 100);
    assert.deepEqual(collect(w, 5999), []);
    assert.deepEqual(collect(w, 6000), [1]);
  });

  it("long timeouts span several revolutions without firing early", () => {
    // 900 s with a 1 s tick and a 64-slot wheel: 14 revolutions.
    const w = new TimerWheel(4, 1000, 64, 0);
    w.schedule(0, 900_000);
    w.schedule(1, 64_000); // same bucket as 0 at a nearer revolution
    w.schedule(2, 128_000);
    for (let t = 1000; t <= 1_000_000; t += 1000) {
      const fired = collect(w, t);
      if (t === 64_000) assert.deepEqual(fired, [1]);
      else if (t === 128_000) assert.deepEqual(fired, [2]);
      else if (t === 900_000) assert.deepEqual(fired, [0]);
      else assert.deepEqual(fired, [], `nothing due at ${t}`);
    }
  });

  it("900 s on the engine's 1 s x 1024 wheel, clock stepping 100 ms", () => {
    const w = new TimerWheel(2, 1000, 1024, 0);
    w.schedule(0, 900_000);
    w.schedule(1, 2_000_000); // beyond one revolution (1024 s)
    let fired0 = -1;
    let fired1 = -1;
    for (let t = 100; t <= 2_100_000; t += 100) {
      w.advance(t, (id) => {
        if (id === 0) fired0 = t;
        else fired1 = t;
      });
    }
    assert.equal(fired0, 900_000);
    assert.equal(fired1, 2_000_000);
  });

  it("a clock jump past many revolutions fires everything due and nothing else", () => {
    const w = new TimerWheel(100, 10, 8, 0);
    for (let id = 0; id < 100; id++) w.schedule(id, id * 50);
    const fired = collect(w, 2500);
    assert.deepEqual(fired, Array.from({ length: 51 }, (_, i) => i));
    assert.equal(w.size, 49);
    // Another jump, to just before the last deadline (99 is due at 4950).
    assert.deepEqual(collect(w, 4949), Array.from({ length: 48 }, (_, i) => 51 + i));
    assert.deepEqual(collect(w, 4950), [99]);
    assert.equal(w.size, 0);
  });

  it("a clock that goes backwards expires nothing", () => {
    const w = new TimerWheel(2, 1000, 16, 10_000);
    w.schedule(0, 12_000);
    assert.deepEqual(collect(w, 5000), []);
    assert.deepEqual(collect(w, 12_000), [0]);
  });

  it("the callback may reschedule the expiring id and cancel others in the same bucket", () => {
    const w = new TimerWheel(10, 1000, 16, 0);
    for (let id = 0; id < 6; id++) w.schedule(id, 1000);
    const seen: number[] = [];
    let keep = -1;
    w.advance(1000, (id) => {
      seen.push(id);
      if (seen.length === 1) {
        // Cancel every other entry still waiting in this bucket except one.
        keep = (id + 1) % 6;
        for (let other = 0; other < 6; other++) if (other !== id && other !== keep) w.cancel(other);
        w.schedule(id, 3000); // expire again later
      }
    });
    assert.deepEqual(seen, [seen[0], keep]);
    assert.equal(w.size, 1);
    assert.deepEqual(collect(w, 3000), [seen[0]]);
  });

  it("the callback may schedule an id due within the same advance", () => {
    const w = new TimerWheel(4, 1000, 16, 0);
    w.schedule(0, 1000);
    const seen: [number, number][] = [];
    let now = 5000;
    w.advance(now, (id) => {
      seen.push([id, now]);
      if (id === 0) w.schedule(1, 3000);
    });
    assert.deepEqual(seen.map(([id]) => id), [0, 1]);
    now = 6000;
    assert.deepEqual(collect(w, now), []);
  });

  it("rejects ids out of range and a wheel size that is no power of two", () => {
    const w = new TimerWheel(4, 1000, 16, 0);
    assert.throws(() => w.schedule(4, 1000), RangeError);
    assert.throws(() => w.schedule(-1, 1000), RangeError);
    assert.throws(() => new TimerWheel(4, 1000, 1000, 0), /power of two/);
    assert.throws(() => new TimerWheel(0, 1000, 16, 0), /capacity/);
    assert.throws(() => new TimerWheel(4, 0, 16, 0), /tick/);
  });

  it("grow keeps scheduled entries and accepts larger ids", () => {
    const w = new TimerWheel(2, 1000, 16, 0);
    w.schedule(1, 2000);
    w.grow(10);
    w.schedule(9, 2000);
    assert.equal(w.capacity, 10);
    assert.deepEqual(collect(w, 2000), [1, 9]);
  });

  it("clear cancels everything", () => {
    const w = new TimerWheel(8, 1000, 4, 0);
    for (let id = 0; id < 8; id++) w.schedule(id, id * 10_000);
    w.clear();
    assert.equal(w.size, 0);
    assert.deepEqual(collect(w, 1_000_000), []);
    w.schedule(3, 1_001_000);
    assert.deepEqual(collect(w, 1_001_000), [3]);
  });

  it("100k ids, randomised against a reference model: exact ids, never early, <= 1 tick late", () => {
    const N = 100_000;
    const tick = 1000;
    const random = rng(0x1b5);
    const origin = 1_000_000;
    let now = origin;
    let prevNow = now;
    const w = new TimerWheel(N, tick, 1024, origin);
    // Reference model: a plain array of deadlines, NaN = not scheduled.
    const due = new Float64Array(N).fill(NaN);
    const timeouts = [2000, 3000, 10_000, 60_000, 120_000, 300_000, 900_000, 2_000_000];
    /** The first tick boundary at or after d: the wheel's promised firing time. */
    const boundary = (d: number) => origin + Math.ceil((d - origin) / tick) * tick;
    let firedTotal = 0;
    let maxLate = 0;
    const onExpire = (id: number) => {
      const d = due[id];
      assert.ok(!Number.isNaN(d), `id ${id} fired but was not scheduled`);
      assert.ok(d <= now, `id ${id} fired early: due ${d}, now ${now}`);
      const b = boundary(d);
      assert.ok(b - d < tick);
      // Fired by the first advance() that reached the tick after its deadline.
      assert.ok(
        prevNow < b && b <= now,
        `id ${id} due ${d} fired at ${now}, last advance ${prevNow}`,
      );
      maxLate = Math.max(maxLate, now - d);
      due[id] = NaN;
      firedTotal++;
    };
    const advanceTo = (t: number) => {
      now = t;
      w.advance(now, onExpire);
      prevNow = now;
    };
    for (let step = 0; step < 3000; step++) {
      // A burst of operations, then advance the clock by up to one tick.
      for (let k = 0; k < 400; k++) {
        const id = Math.floor(random() * N);
        if (random() < 0.85) {
          const timeout = timeouts[Math.floor(random() * timeouts.length)] +
            Math.floor(random() * 997);
          const at = now + timeout;
          w.schedule(id, at);
          due[id] = at;
        } else {
          w.cancel(id);
          due[id] = NaN;
        }
      }
      advanceTo(now + 1 + Math.floor(random() * tick));
      // Nothing whose tick has passed may still be waiting.
      if (step % 500 === 0) {
        let scheduled = 0;
        for (let id = 0; id < N; id++) {
          const d = due[id];
          if (Number.isNaN(d)) continue;
          scheduled++;
          assert.ok(boundary(d) > now, `id ${id} due at ${d} is overdue at ${now}`);
          assert.equal(w.expiresAt(id), d);
        }
        assert.equal(w.size, scheduled);
      }
    }
    // Drain: run the clock past every deadline in 1-tick steps.
    const end = now + 2_100_000;
    while (now < end) advanceTo(now + tick);
    assert.equal(w.size, 0);
    for (let id = 0; id < N; id++) assert.ok(Number.isNaN(due[id]), `id ${id} never fired`);
    assert.ok(firedTotal > 100_000, `only ${firedTotal} expiries exercised`);
    // One tick to reach the boundary, at most one more for the caller's advance spacing.
    assert.ok(maxLate < 2 * tick, `an entry fired ${maxLate} ms late`);
  });
});
