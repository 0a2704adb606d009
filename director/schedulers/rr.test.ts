import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RoundRobinScheduler } from "./rr.ts";
import { CLIENT, dests, letter, service } from "./test-support.ts";
import type { Scheduler } from "../service/types.ts";

function run(s: Scheduler, svc: ReturnType<typeof service>, n: number): string {
  let out = "";
  for (let i = 0; i < n; i++) out += letter(svc, s.schedule(svc, CLIENT, 1000 + i, svc.addr, 80));
  return out;
}

describe("rr", () => {
  const cases = [
    { name: "cycles in list order", specs: [{}, {}, {}], want: "ABCABCA" },
    { name: "ignores weights above 0", specs: [{ w: 5 }, { w: 1 }], want: "ABABAB" },
    { name: "skips weight 0", specs: [{}, { w: 0 }, {}], want: "ACACAC" },
    { name: "skips overloaded", specs: [{ overloaded: true }, {}, {}], want: "BCBCBC" },
    { name: "none available", specs: [{ w: 0 }, { overloaded: true }], want: "---" },
    { name: "no destinations", specs: [], want: "--" },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const svc = service(dests(c.specs));
      const s = new RoundRobinScheduler();
      s.update(svc);
      assert.equal(run(s, svc, c.want.length), c.want);
    });
  }

  it("continues after the last chosen server when others become unavailable", () => {
    const svc = service(dests([{}, {}, {}]));
    const s = new RoundRobinScheduler();
    s.update(svc);
    assert.equal(run(s, svc, 2), "AB");
    svc.destinations[2].overloaded = true;
    assert.equal(run(s, svc, 1), "A"); // wraps past overloaded C
    svc.destinations[2].overloaded = false;
    assert.equal(run(s, svc, 3), "BCA"); // the cursor was at A
  });

  it("after the cursor's server is removed, its successor comes next", () => {
    const svc = service(dests([{}, {}, {}, {}]));
    const s = new RoundRobinScheduler();
    s.update(svc);
    assert.equal(run(s, svc, 2), "AB");
    const [b] = svc.destinations.splice(1, 1); // remove B, the cursor
    b.available = false;
    s.update(svc);
    // Remaining A C D: the cursor steps back to A, so C is next.
    assert.equal(run(s, svc, 3), "BCA"); // letters now index the new list: B=C, C=D, A=A
  });

  it("adding a server keeps the cursor", () => {
    const svc = service(dests([{}, {}]));
    const s = new RoundRobinScheduler();
    s.update(svc);
    assert.equal(run(s, svc, 1), "A");
    svc.destinations.unshift(dests([{}, {}, {}])[2]); // new server at the head, as the kernel adds
    s.update(svc);
    // List is now N A B; cursor stays on A, so B, then N, then A.
    assert.equal(run(s, svc, 3), "CAB");
  });
});
