import { test } from "node:test";
import assert from "node:assert/strict";
import { clockTicksPerSecond, CpuPerGB, startProcessesCpuCount } from "./cpu.ts";

/** Keeps this process on the CPU for about `ms`. */
function spin(ms: number): void {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  assert.ok(x > 0);
}

test("the CPU time of processes is summed from /proc/<pid>/stat", () => {
  const stop = startProcessesCpuCount([process.pid, process.pid]);
  spin(300);
  const seconds = stop();
  assert.ok(seconds !== null);
  // Twice this process's ~0.3 s (it is counted twice), less one tick each for the clock's
  // granularity and allowing for time off the CPU on a shared machine.
  assert.ok(seconds >= 2 * (0.15 - 1 / clockTicksPerSecond()), `${seconds}`);
  assert.ok(seconds <= 2 * 1.0, `${seconds}`);
  // A PID that is no process: nothing to count.
  assert.equal(startProcessesCpuCount([process.pid, 2 ** 22 + 1])(), null);
});

test("CPU per GB: the runs' CPU time over their bytes, null without a process", () => {
  const perGB = new CpuPerGB();
  for (const bytes of [250e6, 250e6]) {
    const end = perGB.start([process.pid]);
    spin(100);
    end(bytes);
  }
  const ms = perGB.msPerGB();
  assert.ok(ms !== null);
  // About 200 ms of CPU over 0.5 GB: 400 ms/GB, give or take the clock's ticks and the load.
  assert.ok(ms > 150 && ms < 1000, `${ms}`);

  const none = new CpuPerGB();
  none.start([null])(1e9);
  assert.equal(none.msPerGB(), null);
  const nothingMoved = new CpuPerGB();
  nothingMoved.start([process.pid])(0);
  assert.equal(nothingMoved.msPerGB(), null);
});
