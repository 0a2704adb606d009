import { test } from "node:test";
import assert from "node:assert/strict";
import { clockTicksPerSecond, CpuPerGB, startProcessesCpuCount } from "./cpu.ts";

/**
 * Keeps this process on the CPU until it has used `ms` of CPU time by Node's own count
 * (process.cpuUsage), however loaded the machine; returns the CPU seconds used.
 */
function burn(ms: number): number {
  const start = process.cpuUsage();
  let x = 0;
  for (;;) {
    for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + i);
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1000 >= ms) {
      assert.ok(x > 0);
      return (used.user + used.system) / 1e6;
    }
  }
}

/** Both clocks tick: /proc/<pid>/stat in USER_HZ, a few ticks off at each end. */
const SLACK_S = 3 / clockTicksPerSecond();

test("the CPU time of processes is summed from /proc/<pid>/stat", () => {
  const stop = startProcessesCpuCount([process.pid, process.pid]);
  const used = burn(200);
  const seconds = stop();
  assert.ok(seconds !== null);
  // This process counted twice.
  assert.ok(Math.abs(seconds - 2 * used) <= 2 * SLACK_S, `${seconds} vs 2 × ${used}`);
  // A PID above the kernel's largest possible (2^22): nothing to count.
  assert.equal(startProcessesCpuCount([process.pid, 2 ** 22 + 1])(), null);
});

test("CPU per GB: the runs' CPU time over their bytes, null without a process", () => {
  const perGB = new CpuPerGB();
  let used = 0;
  for (const bytes of [250e6, 250e6]) {
    const end = perGB.start([process.pid]);
    used += burn(100);
    end(bytes);
  }
  const ms = perGB.msPerGB();
  assert.ok(ms !== null);
  // The CPU time over 0.5 GB, in ms per GB.
  const expected = (used * 1e3) / 0.5;
  assert.ok(Math.abs(ms - expected) <= (2 * SLACK_S * 1e3) / 0.5, `${ms} vs ${expected}`);

  const none = new CpuPerGB();
  none.start([null])(1e9);
  assert.equal(none.msPerGB(), null);
  const nothingMoved = new CpuPerGB();
  nothingMoved.start([process.pid])(0);
  assert.equal(nothingMoved.msPerGB(), null);
});
