import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WeightedRoundRobinScheduler } from "./wrr.ts";
import { CLIENT, dests, letter, service } from "./test-support.ts";
import type { Scheduler } from "../service/types.ts";

function run(s: Scheduler, svc: ReturnType<typeof service>, n: number) {
  let out = "";
  for (let i = 0; i < n; i++) out += letter(svc, s.schedule(svc, CLIENT, 1000 + i, svc.addr, 80));
  return out;
}

describe("wrr", () => {
  const cases = [
    {
      // di = gcd(1,2) = 1, mw = 2 - (1-1) = 2, cw starts at 2, cursor at the head.
      // 1: cw=2: A(1) no, B(2) yes → B.  2: after B the list ends: cw=1, A(1>=1) → A.
      // 3: after A: B → B.  4: after B the list ends: cw=0 → wraps to mw=2: A no, B → B.
      // So the period is B A B: A gets 1 of 3, B 2 of 3.
      name: "weights 1 and 2",
      weights: [1, 2],
      want: "BABBABBAB",
    },
    {
      // Same ratio scaled by 2: di = 2, mw = 4 - (2-1) = 3, cw = 3.
      // 1: cw=3: A(2) no, B(4) → B.  2: end: cw=1 (last pass), A(2>=1) → A.  3: B.
      // 4: end: cw=-1 → mw=3: B.  Same sequence as 1:2.
      name: "weights 2 and 4 (gcd step)",
      weights: [2, 4],
      want: "BABBAB",
    },
    {
      // di=1, mw=4. cw=4: A. end → cw=3: A, B. end → cw=2: A, B, C. end → cw=1: A, B, C.
      // end → cw=0 wraps to 4: A ...  Period A A B A B C A B C (LVS's "AABABCABC").
      name: "weights 4, 3, 2",
      weights: [4, 3, 2],
      want: "AABABCABCAABABCABC",
    },
    { name: "equal weights behave like rr", weights: [3, 3, 3], want: "ABCABC" },
    { name: "weight 0 never chosen", weights: [0, 2, 0, 1], want: "BBDBBD" },
    { name: "all weights 0", weights: [0, 0], want: "---" },
    { name: "no destinations", weights: [], want: "--" },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const svc = service(dests(c.weights.map((w) => ({ w }))));
      const s = new WeightedRoundRobinScheduler();
      s.update(svc);
      assert.equal(run(s, svc, c.want.length), c.want);
    });
  }

  it("shares follow weights over many periods", () => {
    const weights = [5, 1, 3, 7];
    const svc = service(dests(weights.map((w) => ({ w }))));
    const s = new WeightedRoundRobinScheduler();
    s.update(svc);
    const seq = run(s, svc, 16 * 10);
    for (let i = 0; i < weights.length; i++) {
      const count = [...seq].filter((ch) => ch === String.fromCharCode(65 + i)).length;
      assert.equal(count, weights[i] * 10, `server ${i}`);
    }
  });

  it("skips overloaded servers and returns null when all are", () => {
    const svc = service(dests([{ w: 1 }, { w: 2 }]));
    const s = new WeightedRoundRobinScheduler();
    s.update(svc);
    svc.destinations[1].overloaded = true;
    assert.equal(run(s, svc, 3), "AAA");
    svc.destinations[0].overloaded = true;
    assert.equal(run(s, svc, 2), "--");
    svc.destinations[0].overloaded = false;
    svc.destinations[1].overloaded = false;
    assert.match(run(s, svc, 3), /^[AB]{3}$/);
  });

  it("update() restarts from the head and keeps cw when still valid", () => {
    const svc = service(dests([{ w: 1 }, { w: 2 }]));
    const s = new WeightedRoundRobinScheduler();
    s.update(svc);
    assert.equal(run(s, svc, 2), "BA"); // cw is now 1
    svc.destinations[1].weight = 3; // mw=3; cw=1 stays (not > mw, di = 1)
    s.update(svc);
    // cw=1 from the head: A, B; end → cw=0 → 3: B; end → cw=2: B; end → cw=1: A, B.
    assert.equal(run(s, svc, 6), "ABBBAB");
  });
});
