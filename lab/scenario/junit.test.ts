import { test } from "node:test";
import assert from "node:assert/strict";
import { junitXml, xmlEscape } from "./junit.ts";
import { exitCode, type ScenarioResult } from "./result.ts";

function result(over: Partial<ScenarioResult>): ScenarioResult {
  return {
    name: "s",
    file: "/x/s.yaml",
    description: "",
    backend: "netns",
    lab: "lvsscn",
    artifacts: "/tmp/a",
    startedAt: "2025-01-01T00:00:00.000Z",
    durationMs: 1500,
    status: "passed",
    error: null,
    steps: [],
    assertions: [],
    samples: [],
    pcaps: [],
    warnings: [],
    ...over,
  };
}

const pass = { name: "a <1>", passed: true, line: "PASS: fine", details: [], data: {} };
const fail = {
  name: "b",
  passed: false,
  line: `FAIL: 3 went to "x" & 'y'`,
  details: ["more <detail>"],
  data: {},
};

test("xmlEscape escapes markup and drops control characters", () => {
  assert.equal(xmlEscape(`<a href="x">&'\u0001`), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;");
});

test("one testsuite per scenario, one testcase per assertion, failures with the sentence", () => {
  const xml = junitXml({
    durationMs: 3000,
    scenarios: [
      result({ name: "one", assertions: [pass, fail], status: "failed" }),
      result({ name: "two", status: "error", error: "the lab did not come up: boom" }),
    ],
  });
  assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites /);
  assert.match(
    xml,
    /<testsuites name="lvslab scenarios" tests="3" failures="1" errors="1" time="3.000">/,
  );
  assert.match(
    xml,
    /<testsuite name="one" tests="2" failures="1" errors="0" skipped="0" time="1.500"/,
  );
  assert.match(xml, /<testcase classname="lvslab.scenario.one" name="a &lt;1&gt;" time="0"\/>/);
  assert.match(
    xml,
    /<failure message="FAIL: 3 went to &quot;x&quot; &amp; &apos;y&apos;">FAIL: 3 went to &quot;x&quot; &amp; &apos;y&apos;\nmore &lt;detail&gt;<\/failure>/,
  );
  assert.match(xml, /<testsuite name="two" tests="1" failures="0" errors="1"/);
  assert.match(xml, /<error message="the lab did not come up: boom">/);
  // Balanced: every opened suite and case is closed.
  assert.equal(
    (xml.match(/<testsuite /g) ?? []).length,
    (xml.match(/<\/testsuite>/g) ?? []).length,
  );
});

test("exit codes: 0 all passed, 1 any failure, 2 nothing ran", () => {
  assert.equal(exitCode([]), 2);
  assert.equal(exitCode([result({ status: "error" })]), 2);
  assert.equal(exitCode([result({}), result({})]), 0);
  assert.equal(exitCode([result({}), result({ status: "failed" })]), 1);
  assert.equal(exitCode([result({}), result({ status: "error" })]), 1);
});

test("a PASS excused by capture loss carries a property and its sentence; the suite sums them", () => {
  const excused = {
    name: "every packet of 203.0.113.5:80 has its twin",
    passed: true,
    line: "PASS: passed with 4 packets excused by capture loss: 96 packets have their twin",
    details: ["FAIL: 4 of 100 packets have no twin"],
    data: { excusedByCaptureLoss: 4 },
    excusedByCaptureLoss: 4,
  };
  const xml = junitXml({
    durationMs: 1000,
    scenarios: [result({ name: "lossy", assertions: [pass, excused] })],
  });
  assert.match(
    xml,
    /<testcase classname="lvslab.scenario.lossy" name="every packet of 203.0.113.5:80 has its twin" time="0">\n {6}<properties>\n {8}<property name="excusedByCaptureLoss" value="4"\/>\n {6}<\/properties>\n {6}<system-out>PASS: passed with 4 packets excused by capture loss: 96 packets have their twin\nFAIL: 4 of 100 packets have no twin<\/system-out>\n {4}<\/testcase>/,
  );
  // Still a pass: no failure element, the suite counts none.
  assert.doesNotMatch(xml, /<failure/);
  assert.match(xml, /<testsuite name="lossy" tests="2" failures="0"/);
  assert.match(xml, /<property name="excusedByCaptureLoss" value="4"\/>\n {4}<\/properties>/);
  assert.match(
    xml,
    /<system-out>excused by capture loss: every packet of 203.0.113.5:80 has its twin: PASS: passed with 4 packets/,
  );
  // A run without excuses has neither.
  assert.doesNotMatch(
    junitXml({ durationMs: 1, scenarios: [result({ assertions: [pass] })] }),
    /excused/,
  );
});
