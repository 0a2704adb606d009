import { test } from "node:test";
import assert from "node:assert/strict";
import { checkBounds, countFor, evaluateClientAssertion } from "./checks.ts";
import type { StepOutput, StepWindow } from "./steps.ts";
import type { ConnRecord, ConnSummary } from "../../clients/http-conns.ts";

const tally = { "rs1 172.16.0.2:80": 3, "rs2 172.16.0.3:8000": 7 };

test("a key counts by name or by address:port", () => {
  assert.equal(countFor(tally, "rs1"), 3);
  assert.equal(countFor(tally, "172.16.0.3:8000"), 7);
  assert.equal(countFor(tally, "rs3"), 0);
});

test("exactly also means nothing went elsewhere; atLeast/atMost are bounds", () => {
  assert.deepEqual(checkBounds(tally, { exactly: { rs1: 3, rs2: 7 } }).ok, true);
  const r = checkBounds(tally, { exactly: { rs2: 7 } });
  assert.equal(r.ok, false);
  assert.deepEqual(r.parts, ["rs2 7", "rs1 172.16.0.2:80 3 (expected none)"]);
  assert.equal(checkBounds(tally, { atLeast: { rs1: 4 } }).ok, false);
  assert.equal(checkBounds(tally, { atMost: { rs2: 7 }, atLeast: { rs1: 3 } }).ok, true);
});

function http(records: Partial<ConnRecord>[]): StepOutput {
  const full = records.map((r, i) => ({
    index: i + 1,
    source: null,
    localPorts: [40000 + i],
    servers: {},
    answered: 1,
    outcome: "ok" as const,
    error: null,
    ...r,
  }));
  const data = { records: full } as unknown as ConnSummary;
  return { kind: "http", data };
}

const windows = new Map<string, StepWindow>([
  ["a", { startedAt: 0, endedAt: 1, vip: "203.0.113.5", vport: 80, protocol: "tcp" }],
  ["b", { startedAt: 0, endedAt: 1, vip: "203.0.113.6", vport: 80, protocol: "tcp" }],
]);

test("sticky by source fails when one source reached two servers, names it", () => {
  const outputs = new Map([[
    "a",
    http([
      { source: "198.51.100.10", servers: { "rs1 172.16.0.2:80": 1 } },
      { source: "198.51.100.10", servers: { "rs2 172.16.0.3:8000": 1 } },
      { source: "198.51.100.11", servers: { "rs2 172.16.0.3:8000": 1 } },
    ]),
  ]]);
  const [r] = evaluateClientAssertion(
    { kind: "sticky", steps: ["a"], by: "source", minServers: 1 },
    outputs,
    windows,
    "198.51.100.2",
  );
  assert.equal(r.passed, false);
  assert.match(
    r.line,
    /FAIL: 1 sources were split across servers: source 198\.51\.100\.10 went to/,
  );
});

test("sticky by destination groups steps by their VIP; minServers needs spread", () => {
  const outputs = new Map([
    ["a", http([{ servers: { "rs1 172.16.0.2:80": 1 } }, { servers: { "rs1 172.16.0.2:80": 1 } }])],
    ["b", http([{ servers: { "rs1 172.16.0.2:80": 1 } }])],
  ]);
  const spec = { kind: "sticky" as const, steps: ["a", "b"], by: "destination" as const };
  const [ok] = evaluateClientAssertion({ ...spec, minServers: 1 }, outputs, windows, "x");
  assert.equal(ok.passed, true, ok.line);
  const [spread] = evaluateClientAssertion({ ...spec, minServers: 2 }, outputs, windows, "x");
  assert.equal(spread.passed, false);
  assert.match(spread.line, /only 1 server\(s\) used across 2 destinations/);
});

test("sticky by connection fails when a keep-alive connection was answered by two servers", () => {
  const outputs = new Map([[
    "a",
    http([
      { answered: 2, servers: { "rs1 172.16.0.2:80": 1, "rs2 172.16.0.3:8000": 1 } },
    ]),
  ]]);
  const [r] = evaluateClientAssertion(
    { kind: "sticky", steps: ["a"], by: "connection", minServers: 1 },
    outputs,
    windows,
    "x",
  );
  assert.equal(r.passed, false);
});

test("table presence, expiry bound and absence", () => {
  const outputs = new Map<string, StepOutput>([["t", {
    kind: "table",
    data: [
      {
        protocol: "tcp",
        expireSeconds: 3,
        state: "ESTABLISHED",
        source: "a:1",
        virtual: "203.0.113.5:80",
        destination: "172.16.0.2:80",
      },
    ],
  }]]);
  const [ok] = evaluateClientAssertion(
    {
      kind: "table",
      step: "t",
      present: [{ protocol: "tcp", state: "ESTABLISHED", min: 1, max: 1, maxExpireSeconds: 4 }],
      absent: [{ protocol: "udp" }],
    },
    outputs,
    windows,
    "x",
  );
  assert.equal(ok.passed, true, ok.line);
  const [late] = evaluateClientAssertion(
    {
      kind: "table",
      step: "t",
      present: [{ min: 1, maxExpireSeconds: 2 }],
      absent: [{ vport: 80 }],
    },
    outputs,
    windows,
    "x",
  );
  assert.equal(late.passed, false);
  assert.match(late.line, /expected at most 2 s/);
  assert.match(late.line, /1 to VIP port 80 entries \(expected none\)/);
});

test("a missing step result is a failure that says so", () => {
  const [r] = evaluateClientAssertion(
    { kind: "servers", step: "gone", exactly: { rs1: 1 } },
    new Map(),
    windows,
    "x",
  );
  assert.equal(r.passed, false);
  assert.match(r.line, /step 'gone' left no result/);
});

test("twins missing only as many as tcpdump lost are excused, more are not", async () => {
  const { excuseCaptureLoss } = await import("./capture-glue.ts");
  const failed = {
    name: "twins",
    passed: false,
    line: "FAIL: 4 of 100 packets have no twin",
    details: [],
    data: { matched: 96, unmatched: 4, unmatchedPrivate: 0 },
  };
  assert.equal(excuseCaptureLoss(failed, 0).passed, false);
  assert.equal(excuseCaptureLoss(failed, 3).passed, false);
  const excused = excuseCaptureLoss(failed, 4);
  assert.equal(excused.passed, true);
  assert.match(
    excused.line,
    /^PASS: 4 packets lack a twin, no more than the 4 packets tcpdump lost/,
  );
});
