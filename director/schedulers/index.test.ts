import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createScheduler, isExpiringScheduler, isSchedulerName, SCHEDULER_NAMES } from "./index.ts";
import { CLIENT, dests, seeded, service } from "./test-support.ts";

describe("scheduler registry", () => {
  it("knows ipvsadm's fourteen schedulers", () => {
    assert.deepEqual(
      [...SCHEDULER_NAMES].sort(),
      [
        "dh",
        "fo",
        "lblc",
        "lblcr",
        "lc",
        "mh",
        "nq",
        "ovf",
        "rr",
        "sed",
        "sh",
        "twos",
        "wlc",
        "wrr",
      ],
    );
    for (const name of SCHEDULER_NAMES) {
      assert.ok(isSchedulerName(name));
      assert.equal(createScheduler(name).name, name);
    }
    assert.equal(isSchedulerName("WLC"), false);
  });

  it("rejects unknown names and flags", () => {
    assert.throws(() => createScheduler("x"), /^Error: unknown scheduler 'x'/);
    assert.throws(() => createScheduler("sh", ["sh-fallbak"]), /unknown scheduler flag/);
    assert.doesNotThrow(() => createScheduler("mh", ["mh-port", "mh-fallback"]));
  });

  it("only lblc and lblcr need expiry", () => {
    for (const name of SCHEDULER_NAMES) {
      assert.equal(
        isExpiringScheduler(createScheduler(name)),
        name === "lblc" || name === "lblcr",
        name,
      );
    }
  });

  for (const name of SCHEDULER_NAMES) {
    it(`${name}: never picks weight 0 or overloaded servers; null when none can serve`, () => {
      const rnd = seeded(7);
      const svc = service(
        dests([{ w: 0 }, { w: 2 }, { w: 1, overloaded: true }, { w: 3 }, { w: 0 }]),
      );
      const s = createScheduler(name, [], { random: rnd, now: () => 0 });
      s.update?.(svc);
      for (let i = 0; i < 500; i++) {
        const d = s.schedule(
          svc,
          (CLIENT + i * 2654435761) >>> 0,
          1024 + i,
          (0xc0000200 + i) >>> 0,
          80,
        );
        if (d === null) continue; // hashing schedulers have no fallback by default
        assert.ok(d.weight > 0 && !d.overloaded, `${name} chose ${svc.destinations.indexOf(d)}`);
        d.activeConns += i % 3 === 0 ? 1 : 0;
        d.inactiveConns++;
      }
      for (const d of svc.destinations) d.weight = 0;
      s.update?.(svc);
      for (let i = 0; i < 20; i++) {
        assert.equal(s.schedule(svc, CLIENT + i, 1024 + i, (0xc0000300 + i) >>> 0, 80), null);
      }
    });
  }
});
