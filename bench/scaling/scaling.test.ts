import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { parseDirectorConfig } from "../../director/config/service-config.ts";
import { extraServerPorts, realServer, scalingConfig, scalingPoints } from "./plan.ts";
import { foldRounds } from "./run.ts";
import { formatCount, scalingCharts } from "./plots.ts";
import { renderScalingReport, scalingTable } from "./report.ts";
import { renderScalingFrom, writeScalingResult } from "./output.ts";
import { renderChart } from "../plot/svg-chart.ts";
import type { ConnTableResult, ScalingResult, ScalingSample } from "../types.ts";

test("each dimension varies alone from 2 servers, 1 service and an empty table", () => {
  const points = scalingPoints();
  assert.deepEqual(
    points.map((p) => [p.dimension, p.at, p.servers, p.services, p.fill]),
    [
      ["table", 0, 2, 1, 0],
      ["table", 100_000, 2, 1, 100_000],
      ["table", 1_000_000, 2, 1, 1_000_000],
      ["servers", 2, 2, 1, 0],
      ["servers", 16, 16, 1, 0],
      ["servers", 64, 64, 1, 0],
      ["services", 1, 2, 1, 0],
      ["services", 100, 2, 100, 0],
      ["services", 1000, 2, 1000, 0],
    ],
  );
});

test("real servers alternate over both hosts, the first pair on :80, then 8001 and up", () => {
  assert.deepEqual([0, 1, 2, 3, 63].map(realServer), [
    { address: "172.16.0.2", port: 80 },
    { address: "172.16.0.3", port: 80 },
    { address: "172.16.0.2", port: 8001 },
    { address: "172.16.0.3", port: 8001 },
    { address: "172.16.0.3", port: 8031 },
  ]);
  assert.deepEqual(extraServerPorts(2), []);
  const ports = extraServerPorts(64);
  assert.equal(ports.length, 31);
  assert.deepEqual([ports[0], ports[30]], [8001, 8031]);
});

test("the director's config at a point: the director accepts it, the measured service last", () => {
  const text = scalingConfig({ servers: 64, services: 100 });
  const config = parseDirectorConfig(text, "scaling.yaml");
  assert.equal(config.maxConnections, 2_097_152);
  assert.equal(config.services.length, 100);
  const measured = config.services[99];
  assert.deepEqual([measured.address, measured.port, measured.scheduler], [
    "203.0.113.5",
    80,
    "wlc",
  ]);
  assert.equal(measured.servers.length, 64);
  assert.equal(new Set(measured.servers.map((s) => `${s.address}:${s.port}`)).size, 64);
  assert.deepEqual(
    config.services.slice(0, 99).map((s) => s.port),
    Array.from({ length: 99 }, (_, k) => 10_001 + k),
  );
  assert.ok(config.services.slice(0, 99).every((s) => s.servers.length === 2));
  assert.equal(
    (YAML.parse(scalingConfig({ servers: 2, services: 1 })) as { services: unknown[] }).services
      .length,
    1,
  );
});

function sample(connRate: number, extra: Partial<ScalingSample> = {}): ScalingSample {
  return {
    connRate,
    latP50Ms: connRate / 1000,
    latP99Ms: null,
    cpuPerPacketNs: connRate * 2,
    cpuPerConnUs: 10,
    packets: 100,
    requests: 10,
    errors: 0,
    ...extra,
  };
}

test("a point is the median of its rounds, field by field", () => {
  const plan = scalingPoints()[1]; // table, 100k
  const p = foldRounds(plan, [
    sample(3000, { fillMs: 900, rssBytesPerEntry: 60 }),
    sample(1000, { fillMs: 700, rssBytesPerEntry: 70 }),
    sample(2000, { fillMs: 800, rssBytesPerEntry: 65 }),
  ]);
  assert.equal(p.connRate, 2000);
  assert.equal(p.latP50Ms, 2);
  assert.equal(p.latP99Ms, null, "no round had it");
  assert.equal(p.cpuPerPacketNs, 4000);
  assert.equal(p.fillMs, 800);
  assert.equal(p.rssBytesPerEntry, 65);
  assert.equal(p.samples.length, 3);
  const two = foldRounds(scalingPoints()[4], [sample(1000), sample(2000)]);
  assert.equal(two.connRate, 1500, "two rounds: their mean");
  assert.equal("fillMs" in two, false, "a point without a fill has no fill fields");
});

const MEMORY: ConnTableResult = {
  connections: 4_000_000,
  rssBytesPerConn: 83.4,
  heapBytesPerConn: 110.6,
  emptyRssBytesPerConn: 36.6,
  lookupNs: 300,
  processNs: 1400.2,
  insertNs: 700,
  gcPerMillionPackets: 0,
};

function result(): ScalingResult {
  const plans = scalingPoints();
  return {
    kind: "scaling",
    command: "npm run bench -- --scaling",
    date: "2026-12-02T03:00:00.000Z",
    machine: { cpus: 2, kernel: "6.1", node: "v20", clockTicksPerSecond: 100, writeSyncMicros: 3 },
    commit: "abc123",
    seconds: 4,
    rounds: 1,
    scheduler: "wlc",
    maxConnections: 2_097_152,
    points: plans.map((plan, i) =>
      foldRounds(plan, [
        sample(6000 - i * 100, plan.fill > 0 ? { fillMs: 1000, rssBytesPerEntry: 66.6 } : {}),
      ])
    ),
    memory: [{ ...MEMORY, connections: 1_000_000, heapBytesPerConn: 111.7 }, MEMORY],
    plots: ["table-conn-rate.svg"],
    warnings: ["servers 64: wrk saw 3 errors in 100 requests"],
  };
}

test("the report's table: a row per point and per engine-alone size, computed values", () => {
  const lines = scalingTable(result()).split("\n");
  assert.equal(lines.length, 2 + 9 + 2);
  const cells = (l: string) => l.split("|").slice(1, -1).map((c) => c.trim());
  assert.deepEqual(cells(lines[0]).slice(0, 3), ["what grows", "at", "new conn/s"]);
  assert.deepEqual(cells(lines[3]), [
    "entries in the table",
    "100,000",
    "5,900",
    "5.90",
    "n/a",
    "11,800",
    "10.0",
    "67 (RSS)",
  ]);
  assert.deepEqual(cells(lines[2 + 5]).slice(0, 3), [
    "real servers (1 service, wlc)",
    "64",
    "5,500",
  ]);
  assert.equal(cells(lines[2 + 6])[7], "–", "no memory column where nothing was filled");
  assert.deepEqual(cells(lines[12]), [
    "entries, engine alone",
    "4,000,000",
    "–",
    "–",
    "–",
    "1,400 (engine)",
    "–",
    "111 (83 RSS)",
  ]);
});

test("the report names the run, the method, the plots and the warnings", () => {
  const md = renderScalingReport(result());
  assert.match(md, /^`npm run bench -- --scaling` \(4 s per load, one round, 2 cores/);
  assert.match(md, /commit abc123/);
  assert.match(md, /table limit 2,097,152/);
  assert.match(md, /Engine alone: 1M and 4M connections/);
  assert.match(md, /Plots, beside this file: `table-conn-rate\.svg`\./);
  assert.match(md, /\n- servers 64: wrk saw 3 errors in 100 requests\n$/);
});

test("plots: one chart per question, values taken from the points", () => {
  const charts = scalingCharts(result());
  assert.deepEqual(charts.map((c) => c.file), [
    "table-conn-rate.svg",
    "table-latency.svg",
    "servers-cpu.svg",
    "services-cpu.svg",
    "memory.svg",
  ]);
  const [rate, latency, servers, services, memory] = charts.map((c) => c.spec);
  assert.deepEqual(rate.categories, ["0", "100k", "1M"]);
  assert.deepEqual(rate.series[0].values, [6000, 5900, 5800]);
  assert.deepEqual(latency.series.map((s) => s.name), ["p50", "p99"]);
  assert.deepEqual(latency.series[1].values, [null, null, null]);
  assert.deepEqual(servers.categories, ["2", "16", "64"]);
  assert.deepEqual(servers.series[0].values, [11_400, 11_200, 11_000]);
  assert.deepEqual(services.categories, ["1", "100", "1,000"]);
  assert.deepEqual(memory.categories, ["1M", "4M"]);
  assert.deepEqual(memory.series[0].values, [111.7, 110.6]);
  assert.deepEqual(memory.series[1].values, [83.4, 83.4]);
  assert.equal(memory.kind, "bar");
  assert.deepEqual([0, 2, 1000, 100_000, 1_000_000, 4_000_000, 1_500_000].map(formatCount), [
    "0",
    "2",
    "1,000",
    "100k",
    "1M",
    "4M",
    "1.5M",
  ]);
});

test("a result is written as JSON, latest.md and its plots, and drawn again from the JSON", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-scaling-test-"));
  try {
    const r = result();
    const lines: string[] = [];
    const markdown = writeScalingResult(r, out, (l) => lines.push(l));
    const dir = path.join(out, "scaling");
    const files = fs.readdirSync(dir).sort();
    assert.deepEqual(files, [
      "2026-12-02T03-00-00-000Z.json",
      "latest.md",
      "memory.svg",
      "servers-cpu.svg",
      "services-cpu.svg",
      "table-conn-rate.svg",
      "table-latency.svg",
    ]);
    assert.equal(fs.readFileSync(path.join(dir, "latest.md"), "utf8"), markdown);
    const saved = JSON.parse(fs.readFileSync(path.join(dir, files[0]), "utf8")) as ScalingResult;
    assert.deepEqual(saved.plots, scalingCharts(r).map((c) => c.file));
    assert.match(markdown, /Plots, beside this file: `table-conn-rate\.svg`, `table-latency\.svg`/);
    const chart = scalingCharts(saved).find((c) => c.file === "servers-cpu.svg")!;
    assert.equal(
      fs.readFileSync(path.join(dir, "servers-cpu.svg"), "utf8"),
      renderChart(chart.spec),
    );
    fs.rmSync(path.join(dir, "memory.svg"));
    assert.equal(renderScalingFrom(saved, out, false), markdown);
    assert.ok(fs.existsSync(path.join(dir, "memory.svg")), "--from draws the plots again");
    assert.match(lines.join("\n"), /latest\.md and 5 plots/);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
