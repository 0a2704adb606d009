// lc, wlc, sed, nq: the least-load family, table-driven.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Scheduler } from "../service/types.ts";
import { LeastConnectionScheduler } from "./lc.ts";
import { NeverQueueScheduler } from "./nq.ts";
import { ShortestExpectedDelayScheduler } from "./sed.ts";
import { CLIENT, dests, type DestSpec, letter, service } from "./test-support.ts";
import { WeightedLeastConnectionScheduler } from "./wlc.ts";

interface Case {
  name: string;
  specs: DestSpec[];
  want: string;
}

function table(make: () => Scheduler, cases: Case[]) {
  for (const c of cases) {
    it(c.name, () => {
      const svc = service(dests(c.specs));
      const s = make();
      s.update?.(svc);
      assert.equal(letter(svc, s.schedule(svc, CLIENT, 1234, svc.addr, 80)), c.want);
    });
  }
}

describe("lc: least active*256 + inactive, weight ignored", () => {
  table(() => new LeastConnectionScheduler(), [
    { name: "active counts 256 inactive", specs: [{ active: 1 }, { inactive: 255 }], want: "B" },
    {
      name: "256 inactive tie one active: first",
      specs: [{ active: 1 }, { inactive: 256 }],
      want: "A",
    },
    {
      name: "weight does not scale load",
      specs: [{ w: 1, active: 1 }, { w: 100, active: 2 }],
      want: "A",
    },
    {
      name: "tie goes to the first",
      specs: [{ active: 2 }, { active: 1 }, { active: 1 }],
      want: "B",
    },
    { name: "weight 0 skipped", specs: [{ w: 0 }, { active: 5 }], want: "B" },
    { name: "overloaded skipped", specs: [{ overloaded: true }, { active: 5 }], want: "B" },
    { name: "none available", specs: [{ w: 0 }, { overloaded: true }], want: "-" },
  ]);
});

describe("wlc: least (active*256 + inactive)/weight", () => {
  table(() => new WeightedLeastConnectionScheduler(), [
    // A: 256/1 = 256; B: (256+100)/2 = 178 → B (256*2 > 356*1).
    {
      name: "weight divides load",
      specs: [{ w: 1, active: 1 }, { w: 2, active: 1, inactive: 100 }],
      want: "B",
    },
    // A: 256/1; B: 512/2 → equal, first wins.
    { name: "equal ratio: first", specs: [{ w: 1, active: 1 }, { w: 2, active: 2 }], want: "A" },
    { name: "inactive counts 1/256", specs: [{ inactive: 3 }, { inactive: 2 }], want: "B" },
    { name: "weight 0 first skipped", specs: [{ w: 0 }, { active: 9 }], want: "B" },
    { name: "weight 0 idle later never wins", specs: [{ active: 9 }, { w: 0 }], want: "A" },
    {
      name: "overloaded skipped",
      specs: [{ overloaded: true }, { active: 1 }, { overloaded: true }],
      want: "B",
    },
    { name: "none available", specs: [{ w: 0 }, { w: 0 }], want: "-" },
    { name: "empty", specs: [], want: "-" },
  ]);
});

describe("sed: least (active+1)/weight", () => {
  table(() => new ShortestExpectedDelayScheduler(), [
    // A idle w1: 1/1; B w3 a1: 2/3 → B (wlc would take idle A).
    { name: "counts the incoming job", specs: [{ w: 1 }, { w: 3, active: 1 }], want: "B" },
    { name: "inactive ignored", specs: [{ inactive: 1000 }, { active: 1 }], want: "A" },
    // A: 3/2, B: 3/2 → tie → first.
    { name: "tie: first", specs: [{ w: 2, active: 2 }, { w: 2, active: 2 }], want: "A" },
    { name: "weight 0 skipped", specs: [{ w: 0 }, { active: 3 }], want: "B" },
    { name: "overloaded skipped", specs: [{ overloaded: true }, { active: 3 }], want: "B" },
    { name: "none", specs: [{ overloaded: true }], want: "-" },
  ]);
});

describe("nq: an idle server first, else sed", () => {
  table(() => new NeverQueueScheduler(), [
    // sed would pick B (2/3 < 2/1), nq takes the idle C.
    {
      name: "idle wins over a faster busy one",
      specs: [{ w: 1, active: 1 }, { w: 3, active: 1 }, { w: 1 }],
      want: "C",
    },
    { name: "first idle server", specs: [{ active: 1 }, { inactive: 50 }, {}], want: "B" },
    { name: "no idle: like sed", specs: [{ w: 1, active: 1 }, { w: 3, active: 2 }], want: "B" },
    { name: "idle with weight 0 skipped", specs: [{ w: 0 }, { active: 4 }], want: "B" },
    {
      name: "idle but overloaded skipped",
      specs: [{ overloaded: true }, { active: 4 }],
      want: "B",
    },
    { name: "none", specs: [{ w: 0 }], want: "-" },
  ]);
});
