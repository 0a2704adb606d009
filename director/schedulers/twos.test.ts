import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TwoChoicesScheduler } from "./twos.ts";
import { CLIENT, dests, type DestSpec, letter, seeded, service } from "./test-support.ts";
import type { Scheduler } from "../service/types.ts";

/** A random source that returns u32 values r (as r / 2^32), in order. */
function fixed(...u32s: number[]): () => number {
  let i = 0;
  return () => u32s[i++ % u32s.length] / 4294967296;
}

describe("twos", () => {
  // Two weighted draws r in [0, total] (total = sum of weights + 1 values); walking the list,
  // a draw lands on the first server where r - (weights so far) <= 0. The second draw's
  // server wins only with a strictly lower overhead/weight.
  const cases: { name: string; specs: DestSpec[]; draws: number[]; want: string }[] = [
    // total = 3: r1=0 → A, r2=2 → 2-1=1 > 0 at A, 1-1=0 at B → B. B idle beats A busy.
    {
      name: "second draw wins when less loaded",
      specs: [{ active: 1 }, {}],
      draws: [0, 2],
      want: "B",
    },
    {
      name: "first draw kept when less loaded",
      specs: [{}, { active: 1 }],
      draws: [0, 2],
      want: "A",
    },
    {
      name: "tie keeps the first draw",
      specs: [{ active: 1 }, { active: 1 }],
      draws: [2, 0],
      want: "B",
    },
    // Draws are taken modulo 3: 5 % 3 = 2 → B, 3 % 3 = 0 → A; A less loaded.
    { name: "draws are modulo total+1", specs: [{}, { inactive: 1 }], draws: [5, 3], want: "A" },
    // Load per weight: A 256/1 vs B 300/2=150: B (weight2*oh1 = 512 > 1*300).
    {
      name: "load normalised by weight",
      specs: [{ active: 1 }, { w: 2, inactive: 300 }],
      draws: [0, 3],
      want: "B",
    },
    // Weight 0 and overloaded servers take no part: only C is drawable.
    {
      name: "weight 0 and overloaded skipped",
      specs: [{ w: 0 }, { overloaded: true }, {}],
      draws: [0, 1],
      want: "C",
    },
    { name: "none available", specs: [{ w: 0 }], draws: [0, 0], want: "-" },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const svc = service(dests(c.specs));
      const s: Scheduler = new TwoChoicesScheduler(fixed(...c.draws));
      assert.equal(letter(svc, s.schedule(svc, CLIENT, 1, svc.addr, 80)), c.want);
    });
  }

  it("with a seeded random, equal loads spread by weight and busy servers lose", () => {
    const svc = service(dests([{ w: 1 }, { w: 3 }, { w: 0 }]));
    const s: Scheduler = new TwoChoicesScheduler(seeded(42));
    const counts = [0, 0, 0];
    for (let i = 0; i < 4000; i++) {
      const d = s.schedule(svc, CLIENT, i, svc.addr, 80)!;
      counts[svc.destinations.indexOf(d)]++;
    }
    assert.equal(counts[2], 0);
    // Equal (zero) load: the first draw always stands, so shares follow weight 1:3 (with
    // the kernel's off-by-one: draws 0..4 give A for 0 and 1, B for 2..4 → 2:3).
    assert.ok(Math.abs(counts[0] / 4000 - 0.4) < 0.03, `A share ${counts[0]}`);

    svc.destinations[1].activeConns = 10; // B busy: A wins whenever it is one of the draws
    const busy = [0, 0, 0];
    for (let i = 0; i < 4000; i++) {
      busy[svc.destinations.indexOf(s.schedule(svc, CLIENT, i, svc.addr, 80)!)]++;
    }
    // A wins unless both draws are B: 1 - (3/5)^2 = 0.64.
    assert.ok(Math.abs(busy[0] / 4000 - 0.64) < 0.03, `A share ${busy[0]}`);
  });
});
