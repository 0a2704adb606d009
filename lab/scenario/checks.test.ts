import { test } from "node:test";
import assert from "node:assert/strict";
import { checkBounds, countFor } from "./checks.ts";
import { evaluateClientAssertion } from "./assertions/index.ts";
import type { StepOutput, StepWindow } from "./step-runner.ts";
import type { ConnRecord, ConnSummary } from "../../clients/http-conns.ts";
import type { FtpSummary } from "./ftp-step.ts";

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

test("sticky with expect: each named source on its server, seen at all", () => {
  const outputs = new Map([[
    "a",
    http([
      { source: "198.51.100.10", servers: { "rs1 172.16.0.2:80": 1 } },
      { source: "198.51.100.10", servers: { "rs1 172.16.0.2:80": 1 } },
      { source: "198.51.100.11", servers: { "rs2 172.16.0.3:8000": 1 } },
    ]),
  ]]);
  const spec = { kind: "sticky" as const, steps: ["a"], by: "source" as const, minServers: 2 };
  const judge = (expect: Record<string, string>) =>
    evaluateClientAssertion({ ...spec, expect }, outputs, windows, "x")[0];
  const ok = judge({ "198.51.100.10": "rs1", "198.51.100.11": "172.16.0.3:8000" });
  assert.equal(ok.passed, true, ok.line);
  assert.match(ok.line, /each named one on its expected server/);
  const wrong = judge({ "198.51.100.10": "rs2" });
  assert.equal(wrong.passed, false);
  assert.match(
    wrong.line,
    /FAIL: 1 source\(s\) not on their expected server: source 198\.51\.100\.10 went to rs1 172\.16\.0\.2:80 \(expected rs2\)/,
  );
  const unseen = judge({ "198.51.100.12": "rs1" });
  assert.equal(unseen.passed, false);
  assert.match(unseen.line, /source 198\.51\.100\.12 had no answered connection \(expected rs1\)/);
});

test("sticky by destination with expect names the VIP's server", () => {
  const outputs = new Map([
    ["a", http([{ servers: { "rs1 172.16.0.2:80": 1 } }])],
    [
      "b",
      http([{ servers: { "rs1 172.16.0.2:80": 1 } }, { servers: { "rs2 172.16.0.3:8000": 1 } }]),
    ],
  ]);
  const [r] = evaluateClientAssertion(
    {
      kind: "sticky",
      steps: ["a", "b"],
      by: "destination",
      minServers: 1,
      expect: { "203.0.113.5": "rs1", "203.0.113.6": "rs2" },
    },
    outputs,
    windows,
    "x",
  );
  assert.equal(r.passed, false);
  assert.match(
    r.line,
    /1 destinations were split across servers: destination 203\.0\.113\.6 went to .*; and 1 destination\(s\) not on their expected server: destination 203\.0\.113\.6 went to rs1 172\.16\.0\.2:80 \(expected rs2\)/,
  );
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

/** A hold step's output: one connection from 198.51.100.2:41000 to VIP:80. */
function holdOutput(localPort: number | null = 41000): StepOutput {
  return {
    kind: "hold",
    final: true,
    data: {
      target: "203.0.113.5:80",
      connections: [{
        index: 1,
        localAddress: localPort === null ? null : "198.51.100.2",
        localPort,
        server: "rs1",
        serverAddress: "172.16.0.2:8080",
        servers: ["rs1"],
        answered: 1,
        state: "open",
        error: null,
      }],
    },
  };
}

function tableEntry(state: string, source = "198.51.100.2:41000") {
  return {
    protocol: "tcp" as const,
    expireSeconds: 1,
    state,
    source,
    virtual: "203.0.113.5:80",
    destination: "172.16.0.2:8080",
  };
}

// timeouts.yaml's "late" table: the held connection's entry must be gone in every state, so a
// director that never expired it fails even after the server's FIN moved it out of
// ESTABLISHED (the old check forbade only ESTABLISHED and passed these tables).
test("a held connection's entry absent in any state: CLOSE_WAIT, FIN_WAIT or TIME_WAIT fail", () => {
  const late = {
    kind: "table" as const,
    step: "late",
    present: [],
    absent: [{ protocol: "tcp" as const, hold: "idle" }],
  };
  const judge = (entries: ReturnType<typeof tableEntry>[], hold = holdOutput()) =>
    evaluateClientAssertion(
      late,
      new Map<string, StepOutput>([["idle", hold], ["late", { kind: "table", data: entries }]]),
      windows,
      "x",
    )[0];
  for (const state of ["ESTABLISHED", "CLOSE_WAIT", "FIN_WAIT", "TIME_WAIT", "CLOSE"]) {
    const r = judge([tableEntry(state)]);
    assert.equal(r.passed, false, `${state}: ${r.line}`);
    assert.match(r.line, new RegExp(`\\(expected none\\), in state ${state}`));
    assert.match(r.line, /of hold 'idle' \(198\.51\.100\.2:41000 to 203\.0\.113\.5:80\)/);
    // The same table passed the old check, which forbade only ESTABLISHED.
    const old = evaluateClientAssertion(
      { ...late, absent: [{ protocol: "tcp" as const, state: "ESTABLISHED" }] },
      new Map<string, StepOutput>([["late", { kind: "table", data: [tableEntry(state)] }]]),
      windows,
      "x",
    )[0];
    assert.equal(old.passed, state !== "ESTABLISHED", old.line);
  }
  // Gone: passes; another connection's entry (another client port) does not count.
  assert.equal(judge([]).passed, true);
  const other = judge([tableEntry("ESTABLISHED", "198.51.100.2:41001")]);
  assert.equal(other.passed, true, other.line);
  // A hold that opened nothing cannot show its entry gone: that is a failure, not a pass.
  const none = judge([], holdOutput(null));
  assert.equal(none.passed, false);
  assert.match(none.line, /hold 'idle' opened no connection/);
  const noHold = evaluateClientAssertion(
    late,
    new Map<string, StepOutput>([["late", { kind: "table", data: [] }]]),
    windows,
    "x",
  )[0];
  assert.equal(noHold.passed, false);
});

test("a held connection's entry present: matched by its client port, state and expiry", () => {
  const outputs = new Map<string, StepOutput>([["idle", holdOutput()], ["early", {
    kind: "table",
    data: [tableEntry("ESTABLISHED"), {
      ...tableEntry("ESTABLISHED", "198.51.100.2:9"),
      expireSeconds: 900,
    }],
  }]]);
  const spec = (maxExpireSeconds: number) => ({
    kind: "table" as const,
    step: "early",
    present: [{ hold: "idle", state: "ESTABLISHED", min: 1, max: 1, maxExpireSeconds }],
    absent: [],
  });
  const [ok] = evaluateClientAssertion(spec(4), outputs, windows, "x");
  assert.equal(ok.passed, true, ok.line);
  assert.match(ok.line, /1 ESTABLISHED of hold 'idle' .* entry, expiring within 1 s/);
  const [late] = evaluateClientAssertion(spec(0), outputs, windows, "x");
  assert.equal(late.passed, false);
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
  const { excuseCaptureLoss } = await import("./assertions/capture-context.ts");
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
    /^PASS: passed with 4 packets excused by capture loss: 96 packets have their twin, 4 lack one, no more than the 4 packets tcpdump lost/,
  );
  assert.equal(excused.excusedByCaptureLoss, 4);
  assert.deepEqual(excused.details, [failed.line]);
});

function ftpOutput(over: Partial<FtpSummary> = {}): StepOutput {
  const transfers = [1, 2, 3, 4].map((index) => ({
    index,
    direction: index % 2 ? "download" as const : "upload" as const,
    size: 1024,
    remote: `f${index}`,
    sent: "a",
    received: "a",
    outcome: "intact" as const,
  }));
  return {
    kind: "ftp",
    data: {
      mode: "passive",
      extended: false,
      target: "203.0.113.5:21",
      transfers,
      outcomes: { intact: 4, corrupted: 0, failed: 0 },
      controlConnections: 1,
      reused: 3,
      replies: { pasv: 4, pasvToVip: 4, epsv: 0, port: 0, eprt: 0 },
      curlExit: 0,
      bytes: 4096,
      ...over,
    },
  };
}

test("ftp: intact transfers over one control connection pass; each fault fails with its reason", () => {
  const judge = (out: StepOutput, spec: { controlConnections?: number; minTransfers?: number }) =>
    evaluateClientAssertion(
      { kind: "ftp", step: "f", minTransfers: 1, ...spec },
      new Map([["f", out]]),
      windows,
      "x",
    )[0];
  const ok = judge(ftpOutput(), { controlConnections: 1, minTransfers: 4 });
  assert.equal(ok.passed, true, ok.line);
  assert.match(ok.line, /all 4 transfers arrived with the same sha256 at both ends/);
  assert.match(ok.line, /4 of 4 227 replies named the VIP/);
  assert.equal(judge(ftpOutput(), { minTransfers: 5 }).passed, false);
  const two = judge(ftpOutput({ controlConnections: 2, reused: 2 }), { controlConnections: 1 });
  assert.equal(two.passed, false);
  assert.match(two.line, /over 2 control connection\(s\) \(expected 1\)/);
  const base = ftpOutput().data as FtpSummary;
  const broken = ftpOutput({
    transfers: base.transfers.map((t, i) =>
      i === 1 ? { ...t, received: "b", outcome: "corrupted" as const } : t
    ),
    outcomes: { intact: 3, corrupted: 1, failed: 0 },
  });
  const r = judge(broken, {});
  assert.equal(r.passed, false);
  assert.match(r.line, /1 of 4 transfers did not arrive intact \(1 with another sha256, 0 missing/);
  assert.match(r.details[0], /#2 upload 1 KiB f2: corrupted \(sent a, received b\)/);
  // A 227 naming the real server (not rewritten) fails passive mode, not active mode.
  const leak = { replies: { pasv: 4, pasvToVip: 3, epsv: 0, port: 0, eprt: 0 } };
  assert.equal(judge(ftpOutput(leak), {}).passed, false);
  assert.equal(judge(ftpOutput({ ...leak, mode: "active" }), {}).passed, true);
  // results counts the same outcomes.
  const [res] = evaluateClientAssertion(
    { kind: "results", step: "f", exactly: { intact: 4 } },
    new Map([["f", broken]]),
    windows,
    "x",
  );
  assert.equal(res.passed, false);
  assert.match(res.line, /intact 3 \(expected exactly 4\), corrupted 1 \(expected none\)/);
});
