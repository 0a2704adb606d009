import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCpuMask } from "./rps.ts";

test("CPU masks are hexadecimal, as rps_cpus takes them", () => {
  assert.equal(parseCpuMask("3"), "3");
  assert.equal(parseCpuMask("0"), "0");
  assert.equal(parseCpuMask("ff"), "ff");
  for (const bad of ["", "0x3", "1,2", "g", "3 "]) {
    assert.throws(() => parseCpuMask(bad), /a CPU mask is hexadecimal, e\.g\. 3 for CPUs 0 and 1/);
  }
});
