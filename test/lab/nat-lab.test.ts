// The director on real kernel traffic, in a network-namespace lab: HTTP load with the
// article's 1:2 weights, a bulk iperf3 transfer with the TUN offload on, refusals that come
// back at once, ICMP fragmentation-needed translated for a real server behind a smaller MTU,
// a fragmented UDP datagram, a SYN flood, and a teardown that leaves nothing behind.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execIn, labDown, labUp, repoProgram } from "../../lab/netns/lab.ts";
import { labTestBlocker, requireRoot } from "../../lab/testing/require-root.ts";
import { rootNamespaceSnapshot } from "../../lab/testing/root-snapshot.ts";
import { labNamespacesPresent } from "../../lab/netns/namespaces.ts";
import { namespaceName } from "../../lab/topology.ts";
import { startInNamespace } from "../../lab/netns/processes.ts";
import { httpLoadFromClient } from "../../lab/testing/http-load.ts";
import type { UdpSummary } from "../../clients/udp-client.ts";
import type { DirectorCounters } from "../../director/stats/format.ts";
import { READY_LINES } from "../../director/ready-lines.ts";

const LAB = "lvstnat";
const VIP = "203.0.113.5";
const SERVICES = `
maxConnections: 1024
services:
  - { protocol: tcp, address: ${VIP}, port: 80, scheduler: wrr, servers: [
      { address: 172.16.0.2, port: 80, weight: 1 }, { address: 172.16.0.3, port: 8000, weight: 2 } ] }
  - { protocol: tcp, address: ${VIP}, port: 5201, scheduler: rr, servers: [{ address: 172.16.0.2, port: 5201 }] }
  - { protocol: tcp, address: ${VIP}, port: 5202, scheduler: rr, servers: [{ address: 172.16.0.3, port: 5201 }] }
  - { protocol: udp, address: ${VIP}, port: 9000, scheduler: wrr, servers: [
      { address: 172.16.0.2, port: 9000, weight: 1 }, { address: 172.16.0.3, port: 9000, weight: 2 } ] }
  - { protocol: tcp, address: ${VIP}, port: 81, scheduler: wlc, servers: [{ address: 172.16.0.2, port: 80, weight: 0 }] }
`;

const canRun = labTestBlocker() === null;
let rootBefore = "";
let workDir = "";

async function inHost(host: string, argv: string[], timeoutMs = 60_000) {
  return await execIn(host, argv, { name: LAB, timeoutMs });
}

async function startDaemon(host: string, argv: string[], readyText: string, name: string) {
  await startInNamespace({
    namespace: namespaceName(LAB, host),
    argv,
    cwd: process.cwd(),
    logFile: path.join(workDir, `${name}.log`),
    readyText,
    readyTimeoutMs: 15_000,
    what: name,
  });
}

before(async () => {
  if (!canRun) return;
  await labDown(LAB);
  rootBefore = rootNamespaceSnapshot();
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-nat-"));
  const config = path.join(workDir, "services.yaml");
  fs.writeFileSync(config, SERVICES);
  await labUp({ name: LAB, config });
  for (const [host, addr] of [["rs1", "172.16.0.2"], ["rs2", "172.16.0.3"]]) {
    await startDaemon(
      host,
      ["iperf3", "-s", "--forceflush", "-B", addr, "-p", "5201"],
      "Server listening",
      `${host}-iperf3`,
    );
    await startDaemon(
      host,
      repoProgram("realservers/udp-echo-server.ts", ["--name", host, "--listen", `${addr}:9000`]),
      READY_LINES.udpEchoServer,
      `${host}-udp`,
    );
  }
});

after(async () => {
  if (!canRun) return;
  await labDown(LAB);
});

test("200 HTTP requests through the VIP all succeed, split 1:2 between rs1 and rs2", async (t) => {
  if (!requireRoot(t)) return;
  const summary = await httpLoadFromClient(LAB, `http://${VIP}/`, 200, 4);
  assert.equal(summary.ok, 200, JSON.stringify(summary.errors.slice(0, 3)));
  // wrr is deterministic: 200 connections at weights 1:2 give 66 or 67 to rs1.
  assert.ok(Math.abs(summary.byServer.rs1 - 200 / 3) <= 1, JSON.stringify(summary.byServer));
  assert.equal(summary.byServer.rs1 + summary.byServer.rs2, 200);
  // The port rewrite: rs2 received the requests on 8000.
  assert.ok(
    summary.byServerAddress["rs2 172.16.0.3:8000"] > 0,
    JSON.stringify(summary.byServerAddress),
  );
});

test("a 5-second iperf3 transfer client → VIP runs through the director with offload on", async (t) => {
  if (!requireRoot(t)) return;
  const r = await inHost("client", ["iperf3", "-c", VIP, "-p", "5201", "-t", "5", "-J"], 30_000);
  assert.equal(r.code, 0, r.stderr || r.stdout.slice(0, 500));
  const report = JSON.parse(r.stdout);
  const bps = report.end.sum_received.bits_per_second as number;
  console.log(`iperf3 through lvslab: ${(bps / 1e9).toFixed(2)} Gbit/s`);
  assert.ok(report.end.sum_received.bytes > 100 * 1024 * 1024, "at least 100 MB crossed");
  const log = fs.readFileSync(`/run/lvslab/${LAB}/director.log`, "utf8");
  assert.match(log, /offload on/);
  // The offload at work: the kernel handed the director super-packets (up to 64 KB) to forward.
  const counters = await directorCounters();
  assert.ok(counters.superPacketsRead > 100, `${counters.superPacketsRead} super-packets read`);
});

/** The director's counters, as lvs-stats --json prints them in the director host. */
async function directorCounters(): Promise<DirectorCounters> {
  const r = await inHost("director", ["lvs-stats", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as DirectorCounters;
}

test("refused ports answer at once: TCP RST for a port without service, ICMP for no server", async (t) => {
  if (!requireRoot(t)) return;
  const before = await directorCounters();
  const started = Date.now();
  const closed = await inHost("client", [
    "curl",
    "-sS",
    "-m",
    "5",
    `http://${VIP}:443/`,
  ]);
  assert.equal(closed.code, 7, `curl: connection refused expected, got ${closed.stderr}`);
  const noServer = await inHost("client", ["curl", "-sS", "-m", "5", `http://${VIP}:81/`]);
  assert.equal(noServer.code, 7, `curl: ICMP unreachable expected, got ${noServer.stderr}`);
  const udp = await inHost("client", [
    ...repoProgram("clients/udp-client.ts", ["--target", `${VIP}:9999`, "--count", "1"]),
  ]);
  assert.equal((JSON.parse(udp.stdout) as UdpSummary).refused, 1, udp.stdout + udp.stderr);
  assert.ok(Date.now() - started < 5000, "no refusal waited for a timeout");
  // Each refusal is counted under its reason (lvs-stats).
  const after = await directorCounters();
  const grew = (reason: string) => (after.drops[reason] ?? 0) - (before.drops[reason] ?? 0);
  assert.equal(after.refusalsSent - before.refusalsSent, 3, "refusals sent");
  assert.equal(grew("no-service"), 2, "drops for no service (TCP :443, UDP :9999)");
  assert.equal(grew("no-destination"), 1, "drops for no real server (:81, weight 0)");
});

test("a 4 KB UDP datagram, fragmented at MTU 1500, arrives whole both ways, weights 1:2", async (t) => {
  if (!requireRoot(t)) return;
  const r = await inHost("client", [
    ...repoProgram("clients/udp-client.ts", [
      "--target",
      `${VIP}:9000`,
      "--count",
      "30",
      "--size",
      "4096",
    ]),
  ]);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as UdpSummary;
  assert.equal(summary.echoed, 30, r.stdout);
  assert.deepEqual(summary.byServer, { rs1: 10, rs2: 20 });
});

test("fragmentation-needed for a real server behind a smaller MTU reaches the client translated", async (t) => {
  if (!requireRoot(t)) return;
  // The path to rs2 now has MTU 1400: the director's kernel answers oversized segments with
  // ICMP fragmentation-needed, which the engine must translate so the client's TCP adapts.
  const route = await inHost("director", [
    "ip",
    "route",
    "replace",
    "172.16.0.3/32",
    "dev",
    "eth1",
    "mtu",
    "1400",
  ]);
  assert.equal(route.code, 0, route.stderr);
  try {
    const r = await inHost("client", ["iperf3", "-c", VIP, "-p", "5202", "-t", "3", "-J"], 30_000);
    assert.equal(r.code, 0, r.stderr || r.stdout.slice(0, 500));
    const report = JSON.parse(r.stdout);
    assert.ok(
      report.end.sum_received.bytes > 20 * 1024 * 1024,
      `transfer completed (${report.end.sum_received.bytes} bytes)`,
    );
    const pmtu = await inHost("client", ["ip", "route", "get", VIP]);
    assert.match(pmtu.stdout, /mtu 1400/, "the client learned the smaller path MTU");
  } finally {
    await inHost("director", ["ip", "route", "del", "172.16.0.3/32", "dev", "eth1"]);
  }
});

test("a SYN flood fills the table only to its limit while real clients keep being served", async (t) => {
  if (!requireRoot(t)) return;
  // Spoofed sources inside the lab's own documentation range; hping3 stops by itself.
  const floods = [11, 12, 13].map((n) =>
    inHost("client", [
      "hping3",
      "-q",
      "-S",
      "-p",
      "80",
      "-a",
      `198.51.100.${n}`,
      "-i",
      "u100",
      "-c",
      "8000",
      VIP,
    ], 60_000)
  );
  await new Promise((r) => setTimeout(r, 300));
  const summary = await httpLoadFromClient(LAB, `http://${VIP}/`, 50);
  await Promise.all(floods);
  assert.equal(summary.ok, 50, JSON.stringify(summary.errors.slice(0, 3)));
  const state = await directorCounters();
  assert.ok(state.connections <= 1024, `table at most at its limit (${state.connections})`);
  assert.ok(state.connections > 900, `the flood did fill it (${state.connections})`);
});

test("down leaves no namespace, process or state, and the host's namespace unchanged", async (t) => {
  if (!requireRoot(t)) return;
  const report = await labDown(LAB);
  assert.ok(report.namespaces.length >= 5);
  assert.deepEqual(labNamespacesPresent(LAB), []);
  assert.equal(fs.existsSync(`/run/lvslab/${LAB}`), false);
  for (const pid of report.pids) assert.throws(() => process.kill(pid, 0), "process gone");
  assert.equal(rootNamespaceSnapshot(), rootBefore);
});
