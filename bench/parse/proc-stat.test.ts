import { test } from "node:test";
import assert from "node:assert/strict";
import { parseMachineCpu, parseProcessTicks, parseVmRssBytes } from "./proc-stat.ts";

test("machine CPU: busy leaves out idle and iowait", () => {
  const stat = "cpu  84459 3 27043 590807 986 7 5095 79 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 1\n";
  const m = parseMachineCpu(stat);
  assert.equal(m.busy, 84459 + 3 + 27043 + 7 + 5095 + 79);
  assert.equal(m.softirq, 5095);
  assert.equal(m.total, 84459 + 3 + 27043 + 590807 + 986 + 7 + 5095 + 79);
  assert.throws(() => parseMachineCpu("intr 1\n"), /no 'cpu' line/);
});

test("process ticks: utime + stime, even with spaces and parentheses in the name", () => {
  const fields = "S 1 1 1 0 -1 4194304 98 0 0 0 1234 567 0 0 20 0 3 0 356464";
  assert.equal(parseProcessTicks(`4242 (node) ${fields}`), 1234 + 567);
  assert.equal(parseProcessTicks(`4242 (a (b) c) ${fields}`), 1234 + 567);
  assert.throws(() => parseProcessTicks("garbage"), /not a \/proc/);
});

test("resident memory: VmRSS in bytes", () => {
  const status = "Name:\tnode\nVmPeak:\t  999 kB\nVmRSS:\t  123456 kB\nRssAnon:\t 1 kB\n";
  assert.equal(parseVmRssBytes(status), 123456 * 1024);
  assert.throws(() => parseVmRssBytes("Name:\tnode\n"), /VmRSS/);
});
