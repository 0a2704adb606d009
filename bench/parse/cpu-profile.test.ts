import { test } from "node:test";
import assert from "node:assert/strict";
import { type CpuProfile, summariseProfile } from "./cpu-profile.ts";

const frame = (functionName: string, url = "") => ({ functionName, url, lineNumber: 9 });

// Samples at t = 100+10, +20, ...: node 2 (write) ×3, node 3 (poll) ×2, node 4 (process) ×1.
const PROFILE: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame("(root)") },
    { id: 2, callFrame: frame("writeBuffer") },
    { id: 3, callFrame: frame("pollReadable", "file:///repo/director/tun/poll.ts") },
    { id: 4, callFrame: frame("process", "file:///repo/director/engine/engine.ts") },
  ],
  startTime: 100,
  endTime: 200,
  samples: [2, 2, 3, 3, 2, 4],
  timeDeltas: [10, 10, 10, 10, 10, 10],
};

test("self time per function over all samples, largest first", () => {
  const s = summariseProfile(PROFILE);
  assert.equal(s.sampledMs, 0.06);
  assert.deepEqual(s.top.map((e) => e.name), [
    "writeBuffer",
    "pollReadable director/tun/poll.ts:10",
    "process director/engine/engine.ts:10",
  ]);
  assert.equal(s.top[0].share, 0.5);
});

test("only samples inside the windows count", () => {
  // Samples at 130 and 140 are the two poll samples; 150 is a write.
  const s = summariseProfile(PROFILE, [{ startUs: 125, endUs: 150 }]);
  assert.equal(s.sampledMs, 0.03);
  assert.equal(s.top[0].name, "pollReadable director/tun/poll.ts:10");
  assert.ok(Math.abs(s.top[0].share - 2 / 3) < 1e-9);
  assert.equal(summariseProfile(PROFILE, [{ startUs: 0, endUs: 50 }]).top.length, 0);
});

test("frames without a line number (tsx-transpiled) are named without one", () => {
  const profile: CpuProfile = {
    ...PROFILE,
    nodes: [{
      id: 2,
      callFrame: {
        functionName: "run",
        url: "file:///r/director/engine/packet-worker.ts",
        lineNumber: 0,
      },
    }],
    samples: [2],
    timeDeltas: [5],
  };
  assert.equal(summariseProfile(profile).top[0].name, "run director/engine/packet-worker.ts");
});

test("a frame is named from the repo's top folder on, the real servers' programs too", () => {
  const profile: CpuProfile = {
    ...PROFILE,
    nodes: [{
      id: 2,
      callFrame: {
        functionName: "handle",
        url: "file:///work/wt/x/realservers/tunnel-decap/decap-loop.ts",
        lineNumber: 0,
      },
    }],
    samples: [2],
    timeDeltas: [5],
  };
  assert.equal(
    summariseProfile(profile).top[0].name,
    "handle realservers/tunnel-decap/decap-loop.ts",
  );
});
