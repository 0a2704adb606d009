import { test } from "node:test";
import assert from "node:assert/strict";
import { failureHeadline, scenarioReport } from "./human-report.ts";
import type { ScenarioResult } from "./result.ts";
import { verdict } from "../assertions/result.ts";

const check = (passed: boolean, sentence: string, details: string[] = []) =>
  verdict(sentence, passed, sentence, details);

function result(over: Partial<ScenarioResult>): ScenarioResult {
  return {
    name: "demo",
    file: "/nowhere/scenarios/demo.yaml",
    description: "A short\n  description.",
    backend: "netns",
    lab: "lvsx",
    artifacts: "/nowhere/artifacts/demo",
    startedAt: "2026-11-25T00:00:00Z",
    durationMs: 1500,
    status: "passed",
    error: null,
    steps: [{
      index: 0,
      label: "steps[0] (http 'web')",
      kind: "http",
      startedAt: 0,
      endedAt: 1200,
      ok: true,
      error: null,
      summary: "10 answered",
    }],
    assertions: [check(true, "ten of ten")],
    samples: [],
    pcaps: ["/nowhere/artifacts/demo/public.pcap"],
    warnings: [],
    ...over,
  };
}

test("a passing scenario: steps, assertions and the verdict line; no headline", () => {
  const r = result({});
  const lines = scenarioReport(r);
  assert.match(lines[0], /^== scenario demo \(.*demo\.yaml\) on netns, lab 'lvsx'$/);
  assert.equal(lines[1], "   A short description.");
  assert.ok(lines.includes("     ok   steps[0] (http 'web') (1.2 s): 10 answered"));
  assert.match(lines.at(-1)!, /^ {3}PASSED: 1 of 1 assertions held, 1\.5 s; .*\(public\.pcap\)$/);
  assert.deepEqual(failureHeadline(r), []);
});

test("a failing scenario: the headline names the failing step, error and assertion", () => {
  const r = result({
    status: "failed",
    error: "rs2 did not start",
    steps: [{ ...result({}).steps[0], ok: false, summary: "3 of 10 answered" }],
    assertions: [check(true, "fine"), check(false, "split", ["client 1", "client 2"])],
  });
  assert.deepEqual(failureHeadline(r), [
    "failed step steps[0] (http 'web'): 3 of 10 answered",
    "error: rs2 did not start",
    "FAIL: split",
  ]);
  const lines = scenarioReport(r);
  // A failing assertion's details are printed under it; a passing one's are not.
  assert.ok(lines.includes("         client 2"));
  assert.match(lines.at(-1)!, /FAILED: 1 of 2 assertions held/);
});

test("the verdict line counts assertions that passed only by excusing capture loss", () => {
  const excused = {
    ...check(true, "passed with 3 packets excused by capture loss: 7 have their twin"),
    excusedByCaptureLoss: 3,
  };
  const lines = scenarioReport(result({ assertions: [check(true, "fine"), excused] }));
  assert.ok(
    lines.includes("     PASS: passed with 3 packets excused by capture loss: 7 have their twin"),
  );
  assert.match(
    lines.at(-1)!,
    /^ {3}PASSED: 2 of 2 assertions held \(1 of them passed with 3 packets excused by capture loss\), 1\.5 s/,
  );
});
