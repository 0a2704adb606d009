import { test } from "node:test";
import assert from "node:assert/strict";
import { rangeTable, runList } from "./ranges.ts";
import type { BenchResult, Measurement } from "./types.ts";

function run(date: string, lvslab: number, nft: number, haproxy: number): BenchResult {
  const m = (peer: Measurement["peer"], value: number) =>
    ({ metric: "tcp1Up", peer, value }) as Measurement;
  return {
    command: "npm run bench",
    date,
    machine: { cpus: 2, kernel: "6.18", node: "v20", clockTicksPerSecond: 100 },
    seconds: 5,
    quick: false,
    rounds: 3,
    peers: [{ id: "lvslab", label: "lvslab" }, { id: "nft", label: "nft" }],
    measurements: [m("lvslab", lvslab), m("nft", nft), m("haproxy", haproxy)],
    connTable: null,
    workerGc: null,
    profiles: [],
    warnings: [],
  } as BenchResult;
}

test("the range of each ratio is its lowest and highest over the runs", () => {
  const table = rangeTable([run("a", 10, 20, 5), run("b", 12, 15, 8), run("c", 9, 10, 6)]);
  const row = table.split("\n").find((l) => l.startsWith("| bulk TCP, 1 stream, client"));
  assert.ok(row, table);
  assert.match(row, /\| 0\.50× – 0\.90× +\| 1\.50× – 2\.00× +\|/);
  // Metrics no run measured have no row.
  assert.doesNotMatch(table, /UDP/);
});

test("each run is listed with its commit and syscall cost when it recorded them", () => {
  const r = run("2026-12-01T00:00:00Z", 1, 1, 1);
  r.commit = "abc123";
  r.machine.writeSyncMicros = 0.66;
  assert.deepEqual(runList([r]), [
    "- 2026-12-01T00:00:00Z: `npm run bench`, 3 round(s), Linux 6.18, commit abc123, fs.writeSync 0.66 µs",
  ]);
});

test("DR's and TUN's ratios to kernel forwarding get columns once a run measured them", () => {
  const old = run("a", 10, 20, 5);
  assert.doesNotMatch(rangeTable([old]), /kernel forwarding/);
  const withTun = run("b", 12, 15, 8);
  withTun.measurements.push(
    { metric: "tcp1Up", peer: "kernel", value: 20 },
    { metric: "tcp1Up", peer: "lvslab-tun", value: 2 },
    { metric: "cpuDecapPerGB", peer: "lvslab-tun", value: 5000 },
  );
  const lines = rangeTable([old, withTun]).split("\n");
  assert.match(lines[0], /\| lvslab TUN ÷ kernel forwarding \|$/);
  assert.doesNotMatch(lines[0], /lvslab DR/);
  const row = lines.find((l) => l.startsWith("| bulk TCP, 1 stream, client"));
  assert.match(row!, /\| 0\.10× – 0\.10× +\|$/);
  // No ratio for the decapsulator's row (kernel forwarding has none): no row.
  assert.doesNotMatch(lines.join("\n"), /decapsulator/);
});
