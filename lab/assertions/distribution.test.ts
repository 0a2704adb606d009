import { test } from "node:test";
import assert from "node:assert/strict";
import {
  assertDistribution,
  countConnectionsByServer,
  countsFromAttribution,
} from "./distribution.ts";
import { groupConnections } from "../analysis/connections.ts";
import { decodeRecords, mergeConversations, natConnection } from "../analysis/test-support.ts";

const WEIGHTS = { "172.16.0.2:80": 1, "172.16.0.3:8000": 2 };

test("a 1:2 split passes the chi-square test and names counts, expected counts and p", () => {
  const r = assertDistribution({
    counts: { "172.16.0.2:80": 980, "172.16.0.3:8000": 2020 },
    weights: WEIGHTS,
    what: "connections to 203.0.113.5:80",
  });
  assert.equal(r.passed, true, r.line);
  assert.match(r.line, /^PASS: 3000 connections to 203.0.113.5:80 follow the weights 1:2/);
  assert.match(r.line, /172.16.0.2:80 got 980 \(expected 1000.0\)/);
  assert.match(r.line, /chi-square 0.60 with 1 degree of freedom, p = 0.439 ≥ 0.001/);
  assert.equal(r.data.pValue !== undefined, true);
});

test("a skewed split fails, with the p-value in the sentence", () => {
  const r = assertDistribution({
    counts: { "172.16.0.2:80": 1500, "172.16.0.3:8000": 1500 },
    weights: WEIGHTS,
  });
  assert.equal(r.passed, false);
  assert.match(r.line, /^FAIL: 3000 connections do not follow the weights 1:2/);
  assert.match(r.line, /p = [0-9.]+e-\d+ < 0.001/);
});

test("tolerance alone: within passes, outside fails", () => {
  const counts = { "172.16.0.2:80": 9, "172.16.0.3:8000": 21 };
  const ok = assertDistribution({ counts, weights: WEIGHTS, alpha: null, tolerance: 0.05 });
  assert.equal(ok.passed, true, ok.line);
  assert.match(ok.line, /largest share difference 3.3% ≤ tolerance 5.0%/);
  const bad = assertDistribution({ counts, weights: WEIGHTS, alpha: null, tolerance: 0.02 });
  assert.equal(bad.passed, false);
});

test("connections to a stranger or to a weight-0 server fail; nothing counted fails", () => {
  const stranger = assertDistribution({
    counts: { "172.16.0.2:80": 10, "172.16.0.3:8000": 20, "172.16.0.3:80": 1 },
    weights: WEIGHTS,
  });
  assert.equal(stranger.passed, false);
  assert.match(stranger.line, /1 went to 172.16.0.3:80, which is not a real server/);
  const drained = assertDistribution({
    counts: { "172.16.0.2:80": 3, "172.16.0.3:8000": 27 },
    weights: { "172.16.0.2:80": 0, "172.16.0.3:8000": 2 },
  });
  assert.equal(drained.passed, false);
  assert.match(drained.line, /3 went to 172.16.0.2:80, which has weight 0/);
  const none = assertDistribution({ counts: {}, weights: WEIGHTS });
  assert.equal(none.passed, false);
  assert.match(none.line, /no connections were counted/);
});

test("counts come from client attribution keys and from private-side connections", () => {
  assert.deepEqual(
    countsFromAttribution({ "rs1 172.16.0.2:80": 4, "rs2 172.16.0.3:8000": 8 }),
    { "172.16.0.2:80": 4, "172.16.0.3:8000": 8 },
  );
  const base = { client: "198.51.100.2", vip: "203.0.113.5", vport: 80 };
  const conv = mergeConversations([
    natConnection({ ...base, clientPort: 1001, t0: 1, server: "172.16.0.2", serverPort: 80 }),
    natConnection({ ...base, clientPort: 1002, t0: 2, server: "172.16.0.3", serverPort: 8000 }),
    natConnection({ ...base, clientPort: 1003, t0: 3, server: "172.16.0.3", serverPort: 8000 }),
    natConnection({
      ...base,
      vport: 21,
      clientPort: 1004,
      t0: 4,
      server: "172.16.0.3",
      serverPort: 21,
    }),
  ]);
  const conns = groupConnections(decodeRecords(conv.private));
  assert.deepEqual(countConnectionsByServer(conns, { protocol: "tcp" }), {
    "172.16.0.2:80": 1,
    "172.16.0.3:8000": 2,
    "172.16.0.3:21": 1,
  });
  assert.deepEqual(
    countConnectionsByServer(conns, { protocol: "tcp", servers: Object.keys(WEIGHTS) }),
    { "172.16.0.2:80": 1, "172.16.0.3:8000": 2 },
  );
});
