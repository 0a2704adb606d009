// Every scheduler check in scenarios/schedulers-*.yaml is one its neighbours would fail: each
// file is replayed (simulate.ts) with the director's own schedulers, first as written (every
// assertion the replay can judge passes), then with each scheduler swapped for each of its
// neighbours (SCHEDULER_NEIGHBOURS), where an assertion on that scheduler's services fails
// and the other services' assertions still pass.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SCHEDULER_NAMES } from "../../director/schedulers/index.ts";
import { seeded } from "../../director/schedulers/test-support.ts";
import { loadScenario, type Scenario } from "./schema.ts";
import { SCHEDULER_NEIGHBOURS, SCHEDULER_SCENARIOS } from "./scheduler-neighbours.ts";
import {
  assertionServices,
  judgeSimulation,
  serviceKey,
  simulateScenario,
  withScheduler,
} from "./simulate.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const scenarios = SCHEDULER_SCENARIOS.map((f) => loadScenario(path.join(root, "scenarios", f)));

/** The services (serviceKey) of a scenario that use `scheduler`. */
function servicesOf(scenario: Scenario, scheduler: string): string[] {
  return scenario.services.services.filter((v) => v.scheduler === scheduler)
    .map((v) => serviceKey(v.protocol, v.address, v.port));
}

/** The scenario with every service of `from` given `to` instead. */
function swapped(scenario: Scenario, from: string, to: string): Scenario {
  return servicesOf(scenario, from).reduce((s, key) => withScheduler(s, key, to), scenario);
}

/** Judged assertions, each with whether it concerns one of `keys`, and its failures. */
function judge(scenario: Scenario, seed: number, keys: string[]) {
  const sim = simulateScenario(scenario, { random: seeded(seed) });
  return judgeSimulation(scenario, sim).map((j) => ({
    concerns: assertionServices(scenario, j.spec).some((k) => keys.includes(k)),
    failures: j.results.filter((r) => !r.passed).map((r) => r.line),
    passes: j.results.filter((r) => r.passed).map((r) => r.line),
  }));
}

test("the table names neighbours for all 14 schedulers, each a scheduler of its own", () => {
  assert.deepEqual(Object.keys(SCHEDULER_NEIGHBOURS).sort(), [...SCHEDULER_NAMES].sort());
  for (const [s, neighbours] of Object.entries(SCHEDULER_NEIGHBOURS)) {
    assert.ok(neighbours.length > 0, `${s} has no neighbour`);
    for (const n of neighbours) {
      assert.ok(SCHEDULER_NAMES.includes(n), `${s}: ${n} is not a scheduler`);
      assert.notEqual(n, s);
    }
    assert.equal(new Set(neighbours).size, neighbours.length, `${s}: a neighbour twice`);
  }
});

test("each scheduler is checked in exactly one scheduler scenario", () => {
  for (const s of SCHEDULER_NAMES) {
    const files = scenarios.filter((sc) => servicesOf(sc, s).length > 0).map((sc) => sc.name);
    assert.equal(files.length, 1, `${s} is used in ${files.join(", ") || "no file"}`);
  }
});

for (const scenario of scenarios) {
  const schedulers = [...new Set(scenario.services.services.map((v) => v.scheduler))];

  test(`${scenario.name}: the description names every neighbour of its schedulers`, () => {
    for (const s of schedulers) {
      for (const n of SCHEDULER_NEIGHBOURS[s]) {
        assert.match(scenario.description, new RegExp(`\\b${n}\\b`), `${s}'s neighbour ${n}`);
      }
    }
  });

  test(`${scenario.name}: replayed as written, every assertion the replay judges passes`, () => {
    // twos draws at random: several seeds (the file's bounds fail with p < 1e-8 a run).
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const judged = judge(scenario, seed, []);
      assert.ok(judged.length > 0);
      const failures = judged.flatMap((j) => j.failures);
      assert.deepEqual(failures, [], `seed ${seed}`);
    }
  });

  for (const s of schedulers) {
    for (const n of SCHEDULER_NEIGHBOURS[s]) {
      test(`${scenario.name}: ${s}'s checks fail with ${n} in its place`, () => {
        const keys = servicesOf(scenario, s);
        const judged = judge(swapped(scenario, s, n), 1, keys);
        const own = judged.filter((j) => j.concerns);
        assert.ok(own.length > 0, `no assertion judges ${s}'s services ${keys.join(", ")}`);
        assert.ok(
          own.some((j) => j.failures.length > 0),
          `with ${n}, ${s}'s assertions all pass:\n${own.flatMap((j) => j.passes).join("\n")}`,
        );
        // Swapping one scheduler leaves the other services' verdicts alone.
        const others = judged.filter((j) => !j.concerns).flatMap((j) => j.failures);
        assert.deepEqual(others, []);
      });
    }
  }
}
