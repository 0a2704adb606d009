import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { parsePerfPerThread, splitByThread } from "./syscalls.ts";

// Real output of `perf stat -e raw_syscalls:sys_enter --per-thread -x, -p <pid>` (perf 6.1)
// on a node process with one worker thread busy in fs.statSync: node names every thread
// "node", so threads are told apart by their id only.
const FIXTURE = new URL("./fixtures/perf-stat-per-thread.csv", import.meta.url);

test("perf's per-thread CSV: each thread's count by id, <not counted> as 0", () => {
  const counts = parsePerfPerThread(fs.readFileSync(FIXTURE, "utf8"));
  assert.equal(counts.size, 12);
  assert.equal(counts.get(26289), 254_849);
  assert.equal(counts.get(26277), 2_990);
  assert.equal(counts.get(26284), 0);
  const split = splitByThread(counts, { packet: 26289, transmit: [26277] });
  assert.deepEqual(split, { packet: 254_849, transmit: 2_990, other: 33, total: 257_872 });
});

test("a director without a transmit thread counts everything else as other", () => {
  const counts = parsePerfPerThread(
    "node-10,5,,raw_syscalls:sys_enter,1,100.00,,\n" +
      "node-11,7,,raw_syscalls:sys_enter,1,100.00,,\n",
  );
  assert.deepEqual(splitByThread(counts, { packet: 11, transmit: [] }), {
    packet: 7,
    transmit: 0,
    other: 5,
    total: 12,
  });
});

test("a line that is not perf's per-thread count is refused with a sentence", () => {
  assert.throws(
    () => parsePerfPerThread("10,5,,cycles,1,100.00,,\n"),
    /perf stat printed a line the bench cannot read: '10,5,,cycles/,
  );
  assert.throws(
    () => parsePerfPerThread("node-3,many,,raw_syscalls:sys_enter,1,100.00,,\n"),
    /count 'many' is not a number/,
  );
});
