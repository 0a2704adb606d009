// lblc and lblcr: per-destination-address server memory, with a test clock.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CHECK_EXPIRE_INTERVAL_MS,
  DEFAULT_EXPIRATION_MS,
  ENTRY_TIMEOUT_MS,
  LocalityExpiry,
} from "./expiry.ts";
import { LocalityLeastConnectionScheduler } from "./lblc.ts";
import { LocalityLeastConnectionReplicationScheduler } from "./lblcr.ts";
import { CLIENT, dests, letter, service } from "./test-support.ts";

const SITE1 = 0xc0000201; // 192.0.2.1
const SITE2 = 0xc0000202;

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe("lblc", () => {
  it("keeps a destination address on its server; new addresses go by wlc", () => {
    const c = clock();
    const svc = service(dests([{ w: 1 }, { w: 1 }]));
    const s = new LocalityLeastConnectionScheduler({ now: c.now });
    const pick = (dst: number) => letter(svc, s.schedule(svc, CLIENT, 1, dst, 80));
    assert.equal(pick(SITE1), "A"); // wlc: tie → first
    svc.destinations[0].activeConns = 1; // A busier now
    assert.equal(pick(SITE1), "A", "sticks although B is less loaded");
    assert.equal(pick(SITE2), "B", "a new address goes to the least loaded");
    assert.equal(s.size, 2);
  });

  // The cached server is replaced when it is busier than its weight and some server is
  // under half its weight; or when it lost its weight or was removed.
  const cases = [
    {
      name: "over weight, another under half: moves",
      a: { w: 2, active: 3 },
      b: { w: 4, active: 1 },
      want: "B",
    },
    {
      name: "over weight, nobody under half: stays",
      a: { w: 2, active: 3 },
      b: { w: 4, active: 2 },
      want: "A",
    },
    { name: "at weight: stays", a: { w: 2, active: 2 }, b: { w: 4 }, want: "A" },
    { name: "weight 0: moves", a: { w: 0 }, b: { w: 4, active: 50 }, want: "B" },
    // The kernel does not look at the threshold OVERLOAD flag for a cached server.
    { name: "OVERLOAD flag alone: stays", a: { w: 2, overloaded: true }, b: { w: 4 }, want: "A" },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const svc = service(dests([{ w: 1 }, { w: 1 }]));
      const s = new LocalityLeastConnectionScheduler({ now: clock().now });
      assert.equal(letter(svc, s.schedule(svc, CLIENT, 1, SITE1, 80)), "A");
      const [a, b] = svc.destinations;
      a.weight = c.a.w;
      a.activeConns = c.a.active ?? 0;
      a.overloaded = c.a.overloaded ?? false;
      b.weight = c.b.w;
      b.activeConns = c.b.active ?? 0;
      assert.equal(letter(svc, s.schedule(svc, CLIENT, 1, SITE1, 80)), c.want);
      assert.equal(letter(svc, s.lookup(SITE1) ?? null), c.want, "the table follows");
    });
  }

  it("a removed server is replaced", () => {
    const svc = service(dests([{}, {}]));
    const s = new LocalityLeastConnectionScheduler({ now: clock().now });
    const a = s.schedule(svc, CLIENT, 1, SITE1, 80)!;
    svc.destinations.splice(0, 1);
    a.available = false;
    assert.equal(s.schedule(svc, CLIENT, 1, SITE1, 80), svc.destinations[0]);
  });

  it("expire() drops entries unused for the expiration time on the 30th check", () => {
    const c = clock();
    const svc = service(dests([{}]));
    const s = new LocalityLeastConnectionScheduler({ now: c.now, expirationMs: 10 * 60_000 });
    s.schedule(svc, CLIENT, 1, SITE1, 80);
    s.schedule(svc, CLIENT, 1, SITE2, 80);
    const start = c.t;
    for (let k = 1; k <= 29; k++) {
      c.t = start + k * CHECK_EXPIRE_INTERVAL_MS;
      if (k === 20) s.schedule(svc, CLIENT, 1, SITE2, 80); // SITE2 used at minute 20
      s.expire(c.t);
      assert.equal(s.size, 2, `check ${k} is a cheap one`);
    }
    c.t = start + 30 * CHECK_EXPIRE_INTERVAL_MS;
    s.expire(c.t); // full check: SITE1 idle 30 min > 10; SITE2 idle 10 min → also due
    assert.equal(s.size, 0);
  });

  it("expire() runs at most once per interval", () => {
    const c = clock();
    const svc = service(dests([{}]));
    const s = new LocalityLeastConnectionScheduler({ now: c.now, expirationMs: 1 });
    s.schedule(svc, CLIENT, 1, SITE1, 80);
    // 100 calls at the same instant count as one check (a cheap one: counter 1).
    for (let k = 0; k < 100; k++) s.expire(c.t + CHECK_EXPIRE_INTERVAL_MS);
    assert.equal(s.size, 1);
  });
});

describe("locality expiry over max size", () => {
  it("drops entries idle for 6 minutes until the excess and a third are gone", () => {
    const e = new LocalityExpiry(0, DEFAULT_EXPIRATION_MS, 6);
    const table = new Map<number, { lastuse: number }>();
    for (let i = 0; i < 12; i++) table.set(i, { lastuse: i < 10 ? 0 : ENTRY_TIMEOUT_MS });
    e.run(table, ENTRY_TIMEOUT_MS); // 1st check (counter 1): 12 > 6, goal = (12-6)*4/3 = 8 → capped at 3
    assert.equal(table.size, 9);
    assert.deepEqual([...table.keys()], [3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });
});

describe("lblcr", () => {
  it("starts a set with the wlc choice and serves from it", () => {
    const svc = service(dests([{ w: 1 }, { w: 1 }]));
    const s = new LocalityLeastConnectionReplicationScheduler({ now: clock().now });
    assert.equal(letter(svc, s.schedule(svc, CLIENT, 1, SITE1, 80)), "A");
    svc.destinations[0].activeConns = 1;
    assert.equal(letter(svc, s.schedule(svc, CLIENT, 1, SITE1, 80)), "A");
    assert.deepEqual(s.serverSet(SITE1), [svc.destinations[0]]);
  });

  it("adds a server when the set's best is overloaded, then picks the least loaded member", () => {
    const c = clock();
    const svc = service(dests([{ w: 2 }, { w: 4 }, { w: 4 }]));
    const s = new LocalityLeastConnectionReplicationScheduler({ now: c.now });
    const [a, b, cc] = svc.destinations;
    assert.equal(s.schedule(svc, CLIENT, 1, SITE1, 80), a);
    a.activeConns = 3; // > weight 2, and B/C are under half → replicate
    c.t += 1000;
    assert.equal(s.schedule(svc, CLIENT, 1, SITE1, 80), b); // wlc over all: B (tie with C, first)
    assert.deepEqual(s.serverSet(SITE1), [b, a], "newest first");
    b.activeConns = 1;
    cc.activeConns = 0;
    // Set {B, A}: B 256/4 = 64 vs A 768/2 = 384 → B; C is not in the set.
    assert.equal(s.schedule(svc, CLIENT, 1, SITE1, 80), b);
  });

  it("drops the most loaded member once the set is unchanged for the expiration time", () => {
    const c = clock();
    const svc = service(dests([{ w: 1 }, { w: 1 }]));
    const s = new LocalityLeastConnectionReplicationScheduler({ now: c.now, expirationMs: 60_000 });
    const [a, b] = svc.destinations;
    s.schedule(svc, CLIENT, 1, SITE1, 80);
    a.activeConns = 2; // > 1 while B has 0*2 < 1
    s.schedule(svc, CLIENT, 1, SITE1, 80);
    assert.deepEqual(s.serverSet(SITE1), [b, a]);
    a.activeConns = 0;
    b.activeConns = 1;
    c.t += 60_000; // not yet *after* lastmod + expiration
    s.schedule(svc, CLIENT, 1, SITE1, 80);
    assert.equal(s.serverSet(SITE1)!.length, 2);
    c.t += 1;
    // B is the most loaded (256 vs 0): removed; A serves.
    assert.equal(s.schedule(svc, CLIENT, 1, SITE1, 80), a);
    assert.deepEqual(s.serverSet(SITE1), [a]);
  });

  it("skips removed and weight-0 members", () => {
    const svc = service(dests([{ w: 1 }, { w: 1 }]));
    const s = new LocalityLeastConnectionReplicationScheduler({ now: clock().now });
    const [a, b] = svc.destinations;
    s.schedule(svc, CLIENT, 1, SITE1, 80);
    a.weight = 0;
    assert.equal(s.schedule(svc, CLIENT, 1, SITE1, 80), b);
    assert.deepEqual(s.serverSet(SITE1), [b, a]);
    b.available = false;
    svc.destinations.splice(1, 1);
    a.weight = 1;
    assert.equal(s.schedule(svc, CLIENT, 1, SITE1, 80), a);
  });

  it("returns null when no server can take connections", () => {
    const svc = service(dests([{ w: 0 }]));
    const s = new LocalityLeastConnectionReplicationScheduler({ now: clock().now });
    assert.equal(s.schedule(svc, CLIENT, 1, SITE1, 80), null);
    assert.equal(s.size, 0);
  });
});
