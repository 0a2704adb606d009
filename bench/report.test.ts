import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  decapSummary,
  drTable,
  formatNumber,
  formatRatio,
  markdownTable,
  peerTable,
  ratio,
  renderReport,
  targetChecks,
  tunTable,
} from "./report.ts";
import type { BenchResult, Measurement, PeerId } from "./types.ts";

function result(values: Record<string, Partial<Record<PeerId, number | null>>>): BenchResult {
  const measurements: Measurement[] = [];
  for (const [metric, byPeer] of Object.entries(values)) {
    for (const [peer, value] of Object.entries(byPeer)) {
      measurements.push({ metric, peer: peer as PeerId, value: value ?? null });
    }
  }
  return {
    command: "npm run bench",
    date: "2026-01-01T00:00:00.000Z",
    machine: { cpus: 2, kernel: "6.1", node: "v20", clockTicksPerSecond: 100 },
    seconds: 5,
    quick: false,
    peers: [
      { id: "kernel", label: "kernel forwarding" },
      { id: "nft", label: "nftables DNAT" },
      { id: "haproxy", label: "HAProxy" },
      { id: "lvslab", label: "lvslab" },
      { id: "lvslab-dr", label: "lvslab DR" },
      { id: "lvslab-tun", label: "lvslab TUN" },
    ],
    measurements,
    connTable: null,
    workerGc: null,
    profiles: [],
    warnings: [],
  };
}

test("ratios and number formatting", () => {
  assert.equal(ratio(5, 10), 0.5);
  assert.equal(ratio(5, 0), null);
  assert.equal(ratio(null, 3), null);
  assert.equal(formatRatio(1.5), "1.50×");
  assert.equal(formatRatio(null), "n/a");
  assert.equal(formatNumber(12345.678, 0), "12,346");
  assert.equal(formatNumber(2.5, 2), "2.50");
  assert.equal(formatNumber(null, 2), "n/a");
});

test("markdown tables pad every column to one width", () => {
  const t = markdownTable(["a", "long header"], [["x×", "1"], ["yyyy", "22"]]);
  const lines = t.split("\n");
  assert.equal(lines.length, 4);
  assert.equal(lines[0], "| a    | long header |");
  assert.equal(lines[1], "| ---- | ----------- |");
  assert.equal(lines[2], "| x×   | 1           |");
  assert.ok(lines.every((l) => [...l].length === [...lines[0]].length));
});

test("the peer table shows lvslab's ratios to nft DNAT and HAProxy, n/a where unmeasured", () => {
  const r = result({
    tcp1Up: { kernel: 20, nft: 18, haproxy: 4, lvslab: 9, "lvslab-dr": 19 },
    udpPps: { kernel: 100_000, nft: 80_000, haproxy: null, lvslab: 40_000 },
  });
  const lines = peerTable(r).split("\n");
  assert.equal(lines.length, 4);
  const cells = (l: string) => l.split("|").slice(1, -1).map((c) => c.trim());
  assert.deepEqual(cells(lines[0]).slice(-2), ["lvslab ÷ nft DNAT", "lvslab ÷ HAProxy"]);
  assert.deepEqual(cells(lines[2]), [
    "bulk TCP, 1 stream, client → server",
    "Gbit/s",
    "20.00",
    "18.00",
    "4.00",
    "9.00",
    "19.00",
    "n/a",
    "0.50×",
    "2.25×",
  ]);
  assert.deepEqual(cells(lines[3]).slice(-5), ["40,000", "n/a", "n/a", "0.50×", "n/a"]);
});

test("the DR table: DR ÷ kernel forwarding on rates, NAT ÷ DR on CPU, only with the DR peer", () => {
  const r = result({
    tcp1Down: { kernel: 20, lvslab: 7, "lvslab-dr": 19 },
    tcp4Down: { kernel: 24, lvslab: 8, "lvslab-dr": 12 },
    udpPps: { kernel: 100_000, lvslab: 40_000, "lvslab-dr": 60_000 },
    cpuDirectorPerGB: { kernel: null, lvslab: 1500, "lvslab-dr": 50 },
  });
  const cells = (l: string) => l.split("|").slice(1, -1).map((c) => c.trim());
  const lines = drTable(r).split("\n").map(cells);
  assert.deepEqual(lines[0].slice(2), [
    "kernel forwarding",
    "lvslab",
    "lvslab DR",
    "lvslab DR ÷ kernel forwarding",
    "lvslab NAT ÷ lvslab DR",
  ]);
  // Rows in DR_METRICS' order; UDP is not one of them.
  assert.deepEqual(lines.slice(2).map((l) => l[0]), [
    "bulk TCP, 1 stream, server → client",
    "bulk TCP, 4 streams, server → client",
    "director process CPU per GB served, server → client",
  ]);
  assert.deepEqual(lines[2].slice(2), ["20.00", "7.00", "19.00", "0.95×", "–"]);
  assert.deepEqual(lines[3].slice(-2), ["0.50×", "–"]);
  assert.deepEqual(lines[4].slice(2), ["n/a", "1,500.0", "50.0", "–", "30.00×"]);
  const md = renderReport(r);
  assert.match(md, /VS\/DR on the same hosts in the same run/);
  r.peers = r.peers.filter((p) => p.id !== "lvslab-dr");
  assert.doesNotMatch(renderReport(r), /lvslab NAT ÷ lvslab DR/);
});

test("the TUN table: TUN ÷ kernel on rates, NAT ÷ TUN and DR ÷ TUN on CPU, the decap's rows", () => {
  const r = result({
    tcp1Down: { kernel: 20, lvslab: 7, "lvslab-dr": 12, "lvslab-tun": 10 },
    tcp1Up: { kernel: 20, lvslab: 6, "lvslab-dr": 8, "lvslab-tun": 0.5 },
    udpPps: { kernel: 100_000, lvslab: 40_000, "lvslab-tun": 30_000 },
    cpuDirectorPerGB: { kernel: null, lvslab: 1500, "lvslab-dr": 500, "lvslab-tun": 400 },
    cpuRealServerPerGB: { kernel: 900, lvslab: 1000, "lvslab-dr": 1200, "lvslab-tun": 4800 },
    cpuDecapPerGB: { kernel: null, lvslab: null, "lvslab-dr": null, "lvslab-tun": 3600 },
  });
  const cells = (l: string) => l.split("|").slice(1, -1).map((c) => c.trim());
  const lines = tunTable(r).split("\n").map(cells);
  assert.deepEqual(lines[0].slice(2), [
    "kernel forwarding",
    "lvslab",
    "lvslab DR",
    "lvslab TUN",
    "lvslab TUN ÷ kernel forwarding",
    "lvslab NAT ÷ lvslab TUN",
    "lvslab DR ÷ lvslab TUN",
  ]);
  assert.deepEqual(lines.slice(2).map((l) => l[0]), [
    "bulk TCP, 1 stream, server → client",
    "bulk TCP, 1 stream, client → server",
    "director process CPU per GB served, server → client",
    "real server CPU per GB received, client → server",
    "of which the decapsulator (lvslab-decap)",
  ]);
  assert.deepEqual(lines[2].slice(2), ["20.00", "7.00", "12.00", "10.00", "0.50×", "–", "–"]);
  assert.deepEqual(lines[3].slice(-3), ["0.03×", "–", "–"]);
  assert.deepEqual(lines[4].slice(2), ["n/a", "1,500.0", "500.0", "400.0", "–", "3.75×", "1.25×"]);
  assert.deepEqual(lines[5].slice(2), [
    "900.0",
    "1,000.0",
    "1,200.0",
    "4,800.0",
    "–",
    "0.21×",
    "0.25×",
  ]);
  assert.deepEqual(lines[6].slice(-4), ["3,600.0", "–", "n/a", "n/a"]);
  assert.equal(
    decapSummary(r),
    "On the uploads, rs1 spent 4,800.0 ms of CPU per GB received through lvslab TUN, 3,600.0 ms " +
      "of it in lvslab-decap (75%); through lvslab DR, where the packets arrive as they were " +
      "sent, 1,200.0 ms (TUN ÷ DR 4.00×).",
  );
  const md = renderReport(r);
  assert.match(md, /VS\/TUN on the same hosts in the same run/);
  assert.match(md, /3,600\.0 ms\sof\sit\sin\slvslab-decap\s\(75%\)/);
  // Without DR's upload the summary stops after TUN's; without TUN no table at all.
  r.measurements = r.measurements.filter((m) => m.peer !== "lvslab-dr");
  assert.match(decapSummary(r)!, /lvslab-decap \(75%\)\.$/);
  r.peers = r.peers.filter((p) => p.id !== "lvslab-tun");
  assert.doesNotMatch(renderReport(r), /lvslab NAT ÷ lvslab TUN/);
  assert.equal(decapSummary(result({ cpuRealServerPerGB: { lvslab: 900 } })), null);
});

test("DR targets: server → client at 0.9 × kernel forwarding, CPU per GB a tenth of NAT's", () => {
  const checksOf = (r: BenchResult) => new Map(targetChecks(r).map((c) => [c.target, c]));
  const one = "DR server → client bulk, 1 stream: lvslab DR ≥ 0.9 × kernel forwarding";
  const four = "DR server → client bulk, 4 streams: lvslab DR ≥ 0.9 × kernel forwarding";
  const cpu = "DR director CPU per GB served ≤ NAT's ÷ 10";
  const met = checksOf(result({
    tcp1Down: { kernel: 20, "lvslab-dr": 18 },
    tcp4Down: { kernel: 24, "lvslab-dr": 23 },
    cpuDirectorPerGB: { lvslab: 1500, "lvslab-dr": 100 },
  }));
  assert.equal(met.get(one)!.met, true);
  assert.equal(met.get(four)!.met, true);
  assert.equal(met.get(cpu)!.met, true);
  assert.equal(met.get(cpu)!.observed, "1,500.0 ÷ 100.0 ms/GB = 15.00×");
  const failed = checksOf(result({
    tcp1Down: { kernel: 20, "lvslab-dr": 17.9 },
    tcp4Down: { kernel: 24, "lvslab-dr": 12 },
    cpuDirectorPerGB: { lvslab: 1500, "lvslab-dr": 151 },
  }));
  assert.equal(failed.get(one)!.met, false);
  assert.equal(failed.get(four)!.met, false);
  assert.equal(failed.get(cpu)!.met, false);
  assert.equal(failed.get(four)!.observed, "0.50×");
  const unmeasured = checksOf(result({ tcp1Down: { kernel: 20 } }));
  assert.equal(unmeasured.get(one)!.met, null);
  assert.equal(unmeasured.get(cpu)!.met, null);
  assert.equal(unmeasured.get(cpu)!.observed, "n/a");
});

test("targets: met, not met, and not measured", () => {
  const r = result({
    tcp1Up: { nft: 18, haproxy: 4, lvslab: 8 },
    tcp1Down: { nft: 14, haproxy: 4, lvslab: 8 },
    connRate: { haproxy: 6000, lvslab: 5000 },
  });
  r.connTable = {
    connections: 1_000_000,
    rssBytesPerConn: 95,
    heapBytesPerConn: 90,
    emptyRssBytesPerConn: 40,
    lookupNs: 300,
    processNs: 1000,
    insertNs: 500,
    gcPerMillionPackets: 0,
  };
  const checks = new Map(targetChecks(r).map((c) => [c.target, c]));
  const up = "bulk TCP 1 stream, client → server";
  const down = "bulk TCP 1 stream, server → client";
  assert.equal(checks.get(`${up}: lvslab ≥ 0.5 × nft DNAT`)!.met, false);
  assert.equal(checks.get(`${down}: lvslab ≥ 0.5 × nft DNAT`)!.met, true);
  assert.equal(checks.get(`${up}: lvslab ≥ 1.5 × HAProxy`)!.met, true);
  assert.equal(
    checks.get("bulk TCP 4 streams, server → client: lvslab ≥ 1.5 × HAProxy")!.met,
    null,
  );
  assert.equal(checks.get("new connections/s: lvslab ≥ HAProxy")!.met, false);
  assert.equal(checks.get("1,000,000 connections ≤ 200 MB")!.met, true);
  assert.equal(checks.get("no allocation per packet (packet worker, steady path)")!.met, null);
});

test("the report starts with the command that made it and lists warnings", () => {
  const r = result({ tcp1Up: { nft: 18, lvslab: 9 } });
  r.warnings.push("lvslab: wrk saw 3 socket errors");
  const md = renderReport(r);
  assert.ok(md.startsWith("`npm run bench` (5 s per measurement, 2 cores"));
  r.rounds = 3;
  assert.ok(
    renderReport(r).startsWith(
      "`npm run bench` (5 s per measurement, median of 3 rounds, each running every peer",
    ),
  );
  assert.match(md, /- lvslab: wrk saw 3 socket errors/);
  assert.match(md, /\| bulk TCP, 1 stream, client → server \|/);
});

test("the rendered markdown is already as deno fmt formats it", () => {
  const r = result({
    tcp1Up: { kernel: 20.5, nft: 18.25, haproxy: 4.6, lvslab: 9.75, "lvslab-dr": 19.5 },
    connRate: { kernel: 11000, nft: 9000, haproxy: 6000, lvslab: 7000, "lvslab-dr": 9500 },
    cpuDirectorPerGB: { kernel: null, haproxy: 900, lvslab: 1450.25, "lvslab-dr": 40.5 },
    cpuRealServerPerGB: { kernel: 800, lvslab: 810, "lvslab-dr": 1100.5, "lvslab-tun": 6200 },
    cpuDecapPerGB: { "lvslab-tun": 4321.75 },
    udpPps: { kernel: 100_000, nft: 80_000, haproxy: null, lvslab: 40_000 },
  });
  r.command = "npm run bench -- --seconds 5 --peers kernel,nft,haproxy,lvslab";
  r.warnings.push(
    "lvslab: wrk saw 12 socket errors and 0 non-2xx answers in 30000 requests, a sentence long enough to need wrapping",
  );
  r.workerGc = {
    packets: 1_000_000,
    gcCount: 5,
    gcMs: 12.5,
    gcPerMillionPackets: 5,
    allocatedBytesPerPacket: 64.2,
    samples: 20,
  };
  r.profiles.push({
    load: "bulk TCP, 1 stream (iperf3)",
    sampledMs: 5000,
    top: [{ name: "writeFd director/tun/fd-io.ts", selfMs: 3500, share: 0.7 }],
  });
  const md = renderReport(r);
  const deno = spawnSync("npx", ["deno", "fmt", "--ext", "md", "-"], {
    input: md,
    encoding: "utf8",
  });
  if (deno.error || deno.status !== 0) {
    assert.fail(`deno fmt could not run: ${deno.error?.message ?? deno.stderr}`);
  }
  assert.equal(md, deno.stdout);
});
