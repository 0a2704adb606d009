import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Scheduler } from "../service/types.ts";
import { FailOverScheduler } from "./fo.ts";
import { OverflowScheduler } from "./ovf.ts";
import { CLIENT, dests, type DestSpec, letter, service } from "./test-support.ts";

function table(make: () => Scheduler, cases: { name: string; specs: DestSpec[]; want: string }[]) {
  for (const c of cases) {
    it(c.name, () => {
      const svc = service(dests(c.specs));
      const s = make();
      s.update?.(svc);
      assert.equal(letter(svc, s.schedule(svc, CLIENT, 1, svc.addr, 80)), c.want);
    });
  }
}

describe("fo: highest weight, not overloaded", () => {
  table(() => new FailOverScheduler(), [
    { name: "highest weight", specs: [{ w: 1 }, { w: 5 }, { w: 3 }], want: "B" },
    { name: "load ignored", specs: [{ w: 5, active: 1000 }, { w: 1 }], want: "A" },
    { name: "tie: first", specs: [{ w: 2 }, { w: 5 }, { w: 5 }], want: "B" },
    {
      name: "fails over when overloaded",
      specs: [{ w: 1 }, { w: 5, overloaded: true }, { w: 3 }],
      want: "C",
    },
    { name: "weight 0 never", specs: [{ w: 0 }, { w: 0 }], want: "-" },
  ]);
});

describe("ovf: highest weight while active <= weight", () => {
  table(() => new OverflowScheduler(), [
    { name: "highest weight first", specs: [{ w: 2 }, { w: 4 }], want: "B" },
    // The kernel skips only when active > weight, so active == weight still takes one more.
    {
      name: "active equal to weight still chosen",
      specs: [{ w: 2 }, { w: 4, active: 4 }],
      want: "B",
    },
    { name: "overflows past weight", specs: [{ w: 2 }, { w: 4, active: 5 }], want: "A" },
    {
      name: "inactive connections do not count",
      specs: [{ w: 2 }, { w: 4, inactive: 99 }],
      want: "B",
    },
    { name: "tie: first", specs: [{ w: 3 }, { w: 3 }], want: "A" },
    { name: "overloaded skipped", specs: [{ w: 2 }, { w: 4, overloaded: true }], want: "A" },
    { name: "all full", specs: [{ w: 1, active: 2 }, { w: 0 }], want: "-" },
  ]);

  it("fills servers in weight order as connections arrive", () => {
    const svc = service(dests([{ w: 1 }, { w: 3 }]));
    const s: Scheduler = new OverflowScheduler();
    let seq = "";
    for (let i = 0; i < 7; i++) {
      const d = s.schedule(svc, CLIENT, i, svc.addr, 80);
      seq += letter(svc, d);
      if (d) d.activeConns++;
    }
    // B takes 4 (active 0..3 <= 3), then A takes 2 (active 0..1 <= 1), then none.
    assert.equal(seq, "BBBBAA-");
  });
});
