import { test } from "node:test";
import assert from "node:assert/strict";
import { parseWorkerSamples, summariseWorkerGc } from "./worker-gc.ts";

const LINES = [
  { t: 1000, packets: 0, heapUsed: 5_000_000, gcCount: 1, gcMs: 2 },
  { t: 2000, packets: 100_000, heapUsed: 5_000_500, gcCount: 1, gcMs: 2 },
  { t: 3000, packets: 300_000, heapUsed: 3_000_000, gcCount: 2, gcMs: 3.5 },
  { t: 4000, packets: 400_000, heapUsed: 3_000_100, gcCount: 2, gcMs: 3.5 },
  { t: 9000, packets: 400_010, heapUsed: 9_000_000, gcCount: 7, gcMs: 20 },
].map((l) => JSON.stringify(l)).join("\n") + "\n";

test("GCs and allocation per packet inside the load windows only", () => {
  const samples = parseWorkerSamples(LINES);
  assert.equal(samples.length, 5);
  const r = summariseWorkerGc(samples, [{ startMs: 900, endMs: 4100 }])!;
  assert.equal(r.packets, 400_000);
  assert.equal(r.gcCount, 1);
  assert.equal(r.gcMs, 1.5);
  assert.equal(r.gcPerMillionPackets, 2.5);
  // GC-free intervals: 1000→2000 (+500 B, 100k packets) and 3000→4000 (+100 B, 100k).
  assert.equal(r.allocatedBytesPerPacket, 600 / 200_000);
  assert.equal(r.samples, 3);
});

test("no samples inside the windows: no result", () => {
  assert.equal(
    summariseWorkerGc(parseWorkerSamples(LINES), [{ startMs: 5000, endMs: 8000 }]),
    null,
  );
});
