// `npm run bench`: kernel forwarding, kernel nftables DNAT, HAProxy and lvslab (VS/NAT, VS/DR
// and VS/TUN) side by side, in one run on one netns lab (lvsbench): bulk TCP, new connections
// per second with latency, small-packet UDP, CPU per packet, per connection, per GB served
// (the director's) and per GB received (the real server's, VS/TUN's decapsulator apart); then
// the engine alone at a million connections, the packet worker's GC counters and the director
// threads' CPU profiles. Writes bench/results/<date>.json and bench/results/latest.md and
// prints the markdown (or the JSON with --json). With --scaling it measures how lvslab's cost
// grows instead (bench/scaling/run.ts) and writes bench/results/scaling/.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Command } from "commander";
import { requireRoot } from "../lab/root.ts";
import { REPO_ROOT } from "../lab/paths.ts";
import { runSync } from "../lab/netns/command.ts";
import { useLab, VIP } from "./config.ts";
import { stopAll } from "./procs.ts";
import { onBenchLab } from "./bench-lab.ts";
import { runScaling } from "./scaling/run.ts";
import { renderScalingFrom, writeScalingResult } from "./scaling/output.ts";
import { labNetState, stateDiff, vipSockets } from "./net-state.ts";
import type { Peer } from "./peers/peer.ts";
import { kernelForwardingPeer } from "./peers/kernel-forwarding.ts";
import { nftDnatPeer } from "./peers/nft-dnat.ts";
import { haproxyPeer } from "./peers/haproxy.ts";
import { lvslabPacketPeer, lvslabPeer } from "./peers/lvslab.ts";
import { lvslabDrPeer } from "./peers/lvslab-dr.ts";
import { lvslabTunPeer } from "./peers/lvslab-tun.ts";
import { TUNNEL_TYPES, type TunnelType } from "../director/service/tunnel-options.ts";
import { measureTcp } from "./metrics/throughput.ts";
import { measureConnRate } from "./metrics/conn-rate.ts";
import { measureUdp } from "./metrics/udp-pps.ts";
import { clockTicksPerSecond, CpuPerGB, startCpuCount } from "./metrics/cpu.ts";
import { startSyscallWindow } from "./metrics/syscalls.ts";
import { syscallsMetric } from "./metrics/specs.ts";
import { measureConnTable } from "./metrics/conn-table.ts";
import { parseWorkerSamples, summariseWorkerGc } from "./metrics/worker-gc.ts";
import { workerProfiles } from "./metrics/profile.ts";
import { renderReport } from "./report.ts";
import { benchCommit, writeSyncMicros } from "./host.ts";
import { medianOfRounds } from "./rounds.ts";
import type {
  BenchResult,
  Measurement,
  PeerId,
  ProfileResult,
  ScalingResult,
  SyscallSample,
} from "./types.ts";

const ALL_PEERS: PeerId[] = [
  "kernel",
  "nft",
  "haproxy",
  "lvslab",
  "lvslab-packet",
  "lvslab-dr",
  "lvslab-tun",
];
/** The peers whose packets to the VIP must reach lvslab's TUN device. */
const LVSLAB_PEERS: PeerId[] = ["lvslab", "lvslab-packet", "lvslab-dr", "lvslab-tun"];
/** The groups of rows a run may be limited to (--rows). */
const ROW_GROUPS = ["bulk", "http", "udp"] as const;
type RowGroup = (typeof ROW_GROUPS)[number];
/**
 * The order peers run in, in every round. The lvslab peers go right before HAProxy: the
 * connections HAProxy terminated leave TIME_WAIT sockets on VIP:80 in the director's
 * namespace for a minute, and the kernel's early demux hands packets matching them to those
 * sockets instead of routing them into lvslab's TUN device (nftables DNAT and kernel
 * forwarding are unaffected). The kernel and nftables runs in between let them expire before
 * the next round.
 */
const RUN_ORDER: PeerId[] = [
  "lvslab",
  "lvslab-packet",
  "lvslab-dr",
  "lvslab-tun",
  "haproxy",
  "kernel",
  "nft",
];
/** The longest a TIME_WAIT socket lives (Linux's TCP_TIMEWAIT_LEN), plus a margin. */
const TIME_WAIT_MS = 65_000;
const TOOLS: Record<string, string> = {
  iperf3: "iperf3",
  wrk: "wrk",
  nginx: "nginx-light",
  haproxy: "haproxy",
  nft: "nftables",
  perf: "linux-perf",
};

interface Options {
  seconds?: string;
  rounds?: string;
  quick: boolean;
  json: boolean;
  peers: string;
  rows: string;
  tunType: string;
  connections: string;
  engine: boolean;
  profile: boolean;
  out: string;
  from?: string;
  lvslabArgs: string;
  scaling: boolean;
  lab?: string;
}

const program = new Command()
  .name("bench")
  .description(
    "lvslab (VS/NAT, VS/DR and VS/TUN) against kernel forwarding, nftables DNAT and HAProxy on one netns lab, in one run",
  )
  .option("--seconds <n>", "length of each load run (default 5, 2 with --quick)")
  .option(
    "--rounds <n>",
    "rounds of all peers; each value is the median of the rounds (default 3, 1 with --quick)",
  )
  .option("--quick", "short runs, one round, no profile (about 2 minutes)", false)
  .option("--json", "print the JSON result instead of the markdown", false)
  .option(
    "--peers <list>",
    `comma-separated subset of ${ALL_PEERS.join(",")}`,
    ALL_PEERS.join(","),
  )
  .option(
    "--rows <list>",
    `comma-separated subset of the rows to measure: ${ROW_GROUPS.join(",")} (bulk TCP with ` +
      "the CPU per GB rows, new connections with latency and CPU per connection, UDP)",
    ROW_GROUPS.join(","),
  )
  .option(
    "--tun-type <type>",
    `the lvslab TUN peer's encapsulation: ${TUNNEL_TYPES.join(", ")}`,
    "ipip",
  )
  .option("--connections <n>", "connection-table size for the engine-alone measurement", "1000000")
  .option("--no-engine", "skip the engine-alone (connection table) measurement")
  .option("--no-profile", "skip the profiled lvslab run")
  .option(
    "--lvslab-args <options>",
    "more lvslab-director options for every lvslab peer, space-separated (e.g. --transmit=off)",
    "",
  )
  .option(
    "--scaling",
    "how lvslab's cost grows instead: new connections/s and latency with 0, 100k and 1M " +
      "entries in the table, director CPU per packet with 2-64 real servers and 1-1,000 " +
      "services, table memory at 1M and 4M entries; writes bench/results/scaling/ (7 minutes or less)",
    false,
  )
  .option("--lab <name>", "lab name (default lvsbench), so a run can sit beside another lab")
  .option(
    "--from <json>",
    "only re-render the markdown (and a scaling result's plots) of a saved result (no lab, no root)",
  )
  .option("--out <dir>", "where results are written", path.join(REPO_ROOT, "bench", "results"));

function commandLine(): string {
  const args = process.argv.slice(2);
  const tail = args.length > 0 ? ` ${args.join(" ")}` : "";
  return process.env.npm_lifecycle_event === "bench"
    ? `npm run bench${tail ? ` --${tail}` : ""}`
    : `npx tsx bench/main.ts${tail}`;
}

/** A comma-separated option's items, each checked against what it may name. */
function listOption<T extends string>(
  text: string,
  allowed: readonly T[],
  what: string,
  option: string,
): T[] {
  const items = text.split(",").map((p) => p.trim()).filter((p) => p !== "") as T[];
  const unknown = items.filter((p) => !allowed.includes(p));
  if (unknown.length > 0 || items.length === 0) {
    throw new Error(
      `${option}: ${unknown.length > 0 ? `unknown ${what}(s) ${unknown.join(", ")}` : "empty"}; ` +
        `choose from ${allowed.join(", ")}`,
    );
  }
  return items;
}

function missingTools(): string[] {
  return Object.entries(TOOLS)
    .filter(([cmd]) =>
      runSync(["sh", "-c", `command -v ${cmd} || test -x /usr/sbin/${cmd}`]).code !== 0
    )
    .map(([, pkg]) => pkg);
}

function makePeer(
  id: PeerId,
  statsFile: string,
  directorArgs: string[],
  tunType: TunnelType,
): Peer {
  switch (id) {
    case "kernel":
      return kernelForwardingPeer();
    case "nft":
      return nftDnatPeer();
    case "haproxy":
      return haproxyPeer();
    case "lvslab":
      return lvslabPeer({ statsFile, directorArgs });
    case "lvslab-packet":
      return lvslabPacketPeer({ directorArgs });
    case "lvslab-dr":
      return lvslabDrPeer({ directorArgs });
    case "lvslab-tun":
      return lvslabTunPeer({ directorArgs, tunType });
  }
}

type Log = (line: string) => void;

/** What every result records about its run, read before anything runs. */
function runFacts(log: Log) {
  const commit = benchCommit();
  const writeSyncUs = writeSyncMicros();
  log(`one fs.writeSync of 64 bytes costs ${writeSyncUs.toFixed(2)} µs on this host`);
  return {
    command: commandLine(),
    machine: {
      cpus: os.cpus().length,
      kernel: os.release(),
      node: process.version,
      clockTicksPerSecond: clockTicksPerSecond(),
      kernelBuild: os.version(),
      writeSyncMicros: writeSyncUs,
    },
    commit,
  };
}

interface Window {
  startMs: number;
  endMs: number;
  startUs: number;
  endUs: number;
}

/** Runs fn and records its wall-clock window in both clocks (Date for stats, hrtime for profiles). */
async function timed<T>(windows: Window[], fn: () => Promise<T>): Promise<T> {
  const startMs = Date.now();
  const startUs = Number(process.hrtime.bigint() / 1000n);
  try {
    return await fn();
  } finally {
    windows.push({
      startMs,
      endMs: Date.now(),
      startUs,
      endUs: Number(process.hrtime.bigint() / 1000n),
    });
  }
}

type Push = (metric: string, value: number | null, note?: string) => void;
const NO_DIRECTOR_PROCESS = "no director process: the kernel's work is in softirq";
const NOT_LVSLAB = "not lvslab: no TUN device to count packets read from";

/**
 * Counts an lvslab director's syscalls per packet over one load (`load`: its metric key);
 * the returned function ends the window, pushes the row and keeps the per-thread sample.
 */
async function syscallWindow(
  peer: Peer,
  load: string,
  ctx: { workDir: string; syscalls: SyscallSample[] },
  push: Push,
): Promise<() => Promise<void>> {
  const pid = peer.directorPid();
  if (!LVSLAB_PEERS.includes(peer.id) || pid === null) {
    return () => Promise.resolve(push(syscallsMetric(load), null, NOT_LVSLAB));
  }
  const stop = await startSyscallWindow(pid, ctx.workDir, peer.id, load);
  return async () => {
    const sample = await stop();
    ctx.syscalls.push(sample);
    push(syscallsMetric(load), sample.perPacket?.total ?? null);
  };
}
const NO_DECAPSULATOR = "no decapsulator: the packets arrive as they were sent";

/**
 * Bulk TCP both ways, 1 and 4 streams; the director's CPU per GB over the download runs, and
 * the real server's (rs1's iperf3 servers and, for VS/TUN, its decapsulator) per GB received
 * over the upload runs.
 */
async function measureBulk(
  peer: Peer,
  ctx: MeasureContext,
  push: Push,
): Promise<void> {
  const { seconds, serverPids, windows, log } = ctx;
  const director = new CpuPerGB();
  const realServer = new CpuPerGB();
  const decap = new CpuPerGB();
  const decapPid = peer.decapsulatorPid?.() ?? null;
  for (const streams of [1, 4]) {
    for (const reverse of [false, true]) {
      const metric = `tcp${streams}${reverse ? "Down" : "Up"}`;
      const endSyscalls = await syscallWindow(peer, metric, ctx, push);
      const stops = reverse
        ? [director.start([peer.directorPid()])]
        : [realServer.start([...serverPids, ...(decapPid === null ? [] : [decapPid])])];
      if (!reverse && decapPid !== null) stops.push(decap.start([decapPid]));
      const tcp = await timed(
        windows,
        () => measureTcp({ target: peer.targets.tcp, streams, reverse, seconds }),
      );
      for (const stop of stops) stop(tcp.bytes);
      log(
        `  ${peer.label}: TCP ${streams} stream(s)${reverse ? " reverse" : ""}: ${
          tcp.gbps.toFixed(2)
        } Gbit/s`,
      );
      push(metric, tcp.gbps);
      await endSyscalls();
    }
  }
  push(
    "cpuDirectorPerGB",
    director.msPerGB(),
    peer.directorPid() === null ? NO_DIRECTOR_PROCESS : undefined,
  );
  push("cpuRealServerPerGB", realServer.msPerGB());
  push("cpuDecapPerGB", decap.msPerGB(), decapPid === null ? NO_DECAPSULATOR : undefined);
}

interface MeasureContext {
  seconds: number;
  rows: RowGroup[];
  /** rs1's iperf3 servers. */
  serverPids: number[];
  out: Measurement[];
  warnings: string[];
  windows: Window[];
  log: Log;
  workDir: string;
  /** Each lvslab load run's syscalls by thread. */
  syscalls: SyscallSample[];
}

async function measurePeer(peer: Peer, ctx: MeasureContext): Promise<void> {
  const { out } = ctx;
  const push: Push = (metric, value, note) =>
    out.push({ metric, peer: peer.id, value, ...(note ? { note } : {}) });
  if (ctx.rows.includes("bulk")) await measureBulk(peer, ctx, push);
  if (ctx.rows.includes("http")) await measureHttp(peer, ctx, push);
  if (ctx.rows.includes("udp")) await measureUdpRows(peer, ctx, push);
}

/** New HTTP connections per second (wrk), their latency and the director's CPU per connection. */
async function measureHttp(peer: Peer, ctx: MeasureContext, push: Push): Promise<void> {
  const { seconds, warnings, windows, log } = ctx;
  const endSyscalls = await syscallWindow(peer, "connRate", ctx, push);
  const stopHttpCpu = startCpuCount(peer.directorPid());
  const http = await timed(windows, () => measureConnRate({ url: peer.targets.http, seconds }));
  const httpCpu = stopHttpCpu();
  await endSyscalls();
  log(
    `  ${peer.label}: ${http.requestsPerSecond.toFixed(0)} conn/s, p99 ${http.latencyMs["99"]} ms`,
  );
  if (http.socketErrors > 0 || http.non2xx > 0) {
    warnings.push(
      `${peer.label}: wrk saw ${http.socketErrors} socket errors and ${http.non2xx} non-2xx answers in ${http.requests} requests`,
    );
  }
  push("connRate", http.requestsPerSecond);
  push("latP50", http.latencyMs["50"] ?? null);
  push("latP99", http.latencyMs["99"] ?? null);
  push(
    "cpuDirectorPerConn",
    httpCpu.process !== null && http.requests > 0 ? (httpCpu.process * 1e6) / http.requests : null,
    httpCpu.process === null ? NO_DIRECTOR_PROCESS : undefined,
  );
}

/** Small UDP datagrams: delivered per second and the CPU per datagram. */
async function measureUdpRows(peer: Peer, ctx: MeasureContext, push: Push): Promise<void> {
  const { seconds, windows, log } = ctx;
  const udpTarget = peer.targets.udp;
  if (udpTarget === null) {
    const note = peer.udpNote ?? "not measured";
    const metrics = ["udpPps", "cpuMachinePerPkt", "cpuSoftirqPerPkt", "cpuDirectorPerPkt"];
    for (const m of [...metrics, syscallsMetric("udpPps")]) {
      push(m, null, note);
    }
    return;
  }
  const endSyscalls = await syscallWindow(peer, "udpPps", ctx, push);
  const stopUdpCpu = startCpuCount(peer.directorPid());
  const udp = await timed(windows, () => measureUdp(udpTarget, seconds));
  const udpCpu = stopUdpCpu();
  await endSyscalls();
  log(
    `  ${peer.label}: UDP ${udp.deliveredPerSecond.toFixed(0)} datagrams/s delivered of ${
      udp.sentPerSecond.toFixed(0)
    } sent`,
  );
  const perPacket = (
    s: number | null,
  ) => (s === null || udp.delivered === 0 ? null : (s * 1e9) / udp.delivered);
  push("udpPps", udp.deliveredPerSecond);
  push("cpuMachinePerPkt", perPacket(udpCpu.machineBusy));
  push("cpuSoftirqPerPkt", perPacket(udpCpu.softirq));
  push(
    "cpuDirectorPerPkt",
    perPacket(udpCpu.process),
    udpCpu.process === null ? NO_DIRECTOR_PROCESS : undefined,
  );
}

/** Waits until no TCP socket on the VIP is left in the director's namespace (see RUN_ORDER). */
async function waitForVipSockets(log: Log): Promise<void> {
  const deadline = Date.now() + TIME_WAIT_MS;
  let sockets = await vipSockets();
  if (sockets > 0) log(`waiting for ${sockets} TCP sockets on ${VIP} (HAProxy's) to expire`);
  while (sockets > 0) {
    if (Date.now() > deadline) {
      throw new Error(
        `${sockets} TCP sockets on ${VIP} remain in the director's namespace after ` +
          `${TIME_WAIT_MS / 1000} s; they would take lvslab's packets`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    sockets = await vipSockets();
  }
}

/** Sets up a peer, measures it, tears it down, and checks the lab's hosts are as before. */
async function runPeer(
  peer: Peer,
  workDir: string,
  fn: () => Promise<void>,
  log: Log,
): Promise<void> {
  if (LVSLAB_PEERS.includes(peer.id)) await waitForVipSockets(log);
  const before = await labNetState();
  log(`${peer.label}: setting up`);
  try {
    await peer.setup({ workDir, log });
    await fn();
  } finally {
    await peer.teardown();
  }
  const diff = stateDiff(before, await labNetState());
  if (diff !== "") {
    throw new Error(`${peer.label} left the lab's hosts changed after its teardown:\n${diff}`);
  }
}

/** A load run under the profiler: what it is called, and how to run it (its log line back). */
interface ProfiledLoad {
  load: string;
  run: (peer: Peer) => Promise<string>;
}

const tcpLoad = (streams: number, reverse: boolean, seconds: number): ProfiledLoad => ({
  load: `bulk TCP, ${streams} stream${streams > 1 ? "s" : ""}${
    reverse ? ", server → client" : ""
  } (iperf3)`,
  run: async (peer) => {
    const tcp = await measureTcp({ target: peer.targets.tcp, streams, reverse, seconds });
    return `TCP ${streams} stream(s)${reverse ? " reverse" : ""} ${tcp.gbps.toFixed(2)} Gbit/s`;
  },
});

/** One peer under the profiler: its director threads' profiles over each load's window. */
async function profilePeer(
  peer: Peer,
  dir: string,
  workDir: string,
  loads: ProfiledLoad[],
  log: Log,
): Promise<ProfileResult[]> {
  const windows = loads.map((l) => ({ load: l.load, windows: [] as Window[] }));
  await runPeer(peer, workDir, async () => {
    for (const [i, l] of loads.entries()) {
      log(`  ${peer.label}: ${await timed(windows[i]!.windows, () => l.run(peer))}`);
    }
  }, log);
  return workerProfiles(dir, windows);
}

/**
 * The director's threads under node --cpu-prof, for each lvslab peer of the run: NAT over bulk
 * uploads and new connections, DR over a download (what bounds its CPU per GB served), TUN
 * over an upload (the director cuts the client's super-packets into tunnel packets) with rs1's
 * decapsulator profiled too.
 */
async function profiledRun(
  workDir: string,
  seconds: number,
  peerIds: PeerId[],
  directorArgs: string[],
  tunType: TunnelType,
  log: Log,
): Promise<ProfileResult[]> {
  const http: ProfiledLoad = {
    load: "new HTTP connections (wrk)",
    run: async (peer) =>
      `${
        (await measureConnRate({ url: peer.targets.http, seconds })).requestsPerSecond.toFixed(0)
      } conn/s`,
  };
  const runs: { id: PeerId; prefix: string; peer: (dir: string) => Peer; loads: ProfiledLoad[] }[] =
    [
      {
        id: "lvslab",
        prefix: "",
        peer: (profileDir) => lvslabPeer({ profileDir, label: "lvslab (profiled)", directorArgs }),
        loads: [tcpLoad(1, false, seconds), tcpLoad(4, false, seconds), http],
      },
      {
        id: "lvslab-dr",
        prefix: "VS/DR: ",
        peer: (profileDir) => lvslabDrPeer({ profileDir, directorArgs }),
        loads: [tcpLoad(1, true, seconds)],
      },
      {
        id: "lvslab-tun",
        prefix: "VS/TUN: ",
        peer: (profileDir) => lvslabTunPeer({ profileDir, directorArgs, tunType }),
        loads: [tcpLoad(1, false, seconds)],
      },
    ];
  const profiles: ProfileResult[] = [];
  for (const run of runs.filter((r) => peerIds.includes(r.id))) {
    const dir = path.join(workDir, `profile-${run.id}`);
    fs.mkdirSync(dir, { recursive: true });
    const found = await profilePeer(run.peer(dir), dir, workDir, run.loads, log);
    profiles.push(...found.map((p) => ({ ...p, load: `${run.prefix}${p.load}` })));
  }
  return profiles;
}

/** Writes <date>.json and latest.md, and prints the markdown (or the JSON). */
function writeResult(result: BenchResult, opts: Options, started: number, log: Log): void {
  const markdown = renderReport(result);
  fs.mkdirSync(opts.out, { recursive: true });
  const stamp = result.date.replace(/[:.]/g, "-");
  fs.writeFileSync(path.join(opts.out, `${stamp}.json`), JSON.stringify(result, null, 2) + "\n");
  fs.writeFileSync(path.join(opts.out, "latest.md"), markdown);
  log(
    `took ${((Date.now() - started) / 1000).toFixed(0)} s; wrote ${
      path.join(opts.out, `${stamp}.json`)
    } and latest.md`,
  );
  process.stdout.write(opts.json ? JSON.stringify(result, null, 2) + "\n" : markdown);
}

/** Seconds per load run and rounds: the full bench, --quick, --scaling (shorter: 9 points). */
const FULL_DEFAULTS = { seconds: 5, rounds: 3 };
const QUICK_DEFAULTS = { seconds: 2, rounds: 1 };
const SCALING_DEFAULTS = { seconds: 4, rounds: 1 };

/** --scaling: the growth measurements on the bench's lab, then the JSON, markdown and plots. */
async function scalingMain(opts: Options, seconds: number, rounds: number, log: Log) {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-scaling-"));
  const started = Date.now();
  const facts = runFacts(log);
  const directorArgs = opts.lvslabArgs.split(/\s+/).filter((arg) => arg !== "");
  let run;
  try {
    run = await runScaling({ workDir, seconds, rounds, directorArgs, log });
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  const result: ScalingResult = {
    kind: "scaling",
    ...facts,
    date: new Date(started).toISOString(),
    seconds,
    rounds,
    ...run,
    plots: [],
  };
  const markdown = writeScalingResult(result, opts.out, log);
  log(`took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  process.stdout.write(opts.json ? JSON.stringify(result, null, 2) + "\n" : markdown);
}

async function main(): Promise<void> {
  const opts = program.parse().opts<Options>();
  if (opts.lab) useLab(opts.lab);
  if (opts.from) {
    const saved = JSON.parse(fs.readFileSync(opts.from, "utf8")) as BenchResult | ScalingResult;
    if ("kind" in saved && saved.kind === "scaling") {
      process.stdout.write(renderScalingFrom(saved, opts.out, opts.json));
      return;
    }
    const markdown = renderReport(saved as BenchResult);
    fs.mkdirSync(opts.out, { recursive: true });
    fs.writeFileSync(path.join(opts.out, "latest.md"), markdown);
    process.stdout.write(opts.json ? JSON.stringify(saved, null, 2) + "\n" : markdown);
    return;
  }
  const defaults = opts.scaling ? SCALING_DEFAULTS : opts.quick ? QUICK_DEFAULTS : FULL_DEFAULTS;
  const seconds = Math.max(1, Math.min(60, Number(opts.seconds ?? defaults.seconds) || 5));
  const rounds = Math.max(1, Math.min(9, Number(opts.rounds ?? defaults.rounds) || 1));
  const peerIds = listOption(opts.peers, ALL_PEERS, "peer", "--peers");
  const rows = listOption(opts.rows, ROW_GROUPS, "row group", "--rows");
  const tunType = opts.tunType as TunnelType;
  if (!TUNNEL_TYPES.includes(tunType)) {
    throw new Error(
      `--tun-type ${opts.tunType} is not a tunnel type; choose from ${TUNNEL_TYPES.join(", ")}`,
    );
  }
  requireRoot();
  const missing = missingTools();
  if (missing.length > 0) {
    throw new Error(
      `the bench needs ${missing.join(", ")}; install with: sudo scripts/bench-deps.sh`,
    );
  }
  const log: Log = (line) => console.error(`bench: ${line}`);
  if (opts.scaling) return await scalingMain(opts, seconds, rounds, log);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-bench-"));
  const statsFile = path.join(workDir, "worker-stats.jsonl");
  const roundMeasurements: Measurement[][] = [];
  const warnings: string[] = [];
  const lvslabWindows: Window[] = [];
  const syscalls: SyscallSample[] = [];
  let profiles: ProfileResult[] = [];
  const started = Date.now();
  const facts = runFacts(log);

  // Shown in the order (a)..(e), run in RUN_ORDER.
  const directorArgs = opts.lvslabArgs.split(/\s+/).filter((arg) => arg !== "");
  const peers = ALL_PEERS.filter((id) => peerIds.includes(id)).map((id) =>
    makePeer(id, statsFile, directorArgs, tunType)
  );
  // The profiled runs follow the last lvslab peer of the first round (before HAProxy's).
  const lastLvslab = RUN_ORDER.filter((id) => LVSLAB_PEERS.includes(id) && peerIds.includes(id))
    .at(-1);
  await onBenchLab(workDir, log, async (serverPids) => {
    for (let round = 0; round < rounds; round++) {
      if (rounds > 1) log(`round ${round + 1} of ${rounds}`);
      const measurements: Measurement[] = [];
      roundMeasurements.push(measurements);
      for (const id of RUN_ORDER) {
        const peer = peers.find((p) => p.id === id);
        if (!peer) continue;
        const windows = peer.id === "lvslab" ? lvslabWindows : [];
        const ctx: MeasureContext = {
          seconds,
          rows,
          serverPids,
          out: measurements,
          warnings,
          windows,
          log,
          workDir,
          syscalls,
        };
        await runPeer(peer, workDir, () => measurePeer(peer, ctx), log);
        if (id === lastLvslab && round === 0 && opts.profile && !opts.quick) {
          profiles = await profiledRun(workDir, seconds, peerIds, directorArgs, tunType, log);
        }
      }
    }
  });

  let connTable = null;
  if (opts.engine) {
    log(`engine alone: ${opts.connections} connections`);
    connTable = measureConnTable(Number(opts.connections));
  }
  const workerGc = fs.existsSync(statsFile)
    ? summariseWorkerGc(parseWorkerSamples(fs.readFileSync(statsFile, "utf8")), lvslabWindows)
    : null;

  const result: BenchResult = {
    ...facts,
    date: new Date(started).toISOString(),
    seconds,
    quick: opts.quick,
    rounds,
    peers: peers.map((p) => ({ id: p.id, label: p.label })),
    measurements: medianOfRounds(roundMeasurements),
    connTable,
    workerGc,
    syscalls,
    profiles,
    warnings,
  };
  writeResult(result, opts, started, log);
}

main().catch(async (err: Error) => {
  console.error(`bench: ${err.message}`);
  await stopAll().catch(() => {});
  process.exit(1);
});
