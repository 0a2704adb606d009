// `npm run bench`: kernel forwarding, kernel nftables DNAT, HAProxy and lvslab (VS/NAT and
// VS/DR) side by side, in one run on one netns lab (lvsbench): bulk TCP, new connections per
// second with latency, small-packet UDP, CPU per packet, per connection and per GB served; then the engine alone at a million connections, the
// packet worker's GC counters and its CPU profile. Writes bench/results/<date>.json and
// bench/results/latest.md and prints the markdown (or the JSON with --json).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Command } from "commander";
import { labDown, labUp } from "../lab/netns/lab.ts";
import { requireRoot } from "../lab/root.ts";
import { setSysctls } from "../lab/netns/namespaces.ts";
import { namespaceName } from "../lab/topology.ts";
import { REPO_ROOT } from "../lab/paths.ts";
import { runSync } from "../lab/netns/command.ts";
import { benchTopology, LAB, VIP } from "./config.ts";
import { stopAll } from "./procs.ts";
import { startRealServers } from "./realservers.ts";
import { labNetState, stateDiff, vipSockets } from "./net-state.ts";
import type { Peer } from "./peers/peer.ts";
import { kernelForwardingPeer } from "./peers/kernel-forwarding.ts";
import { nftDnatPeer } from "./peers/nft-dnat.ts";
import { haproxyPeer } from "./peers/haproxy.ts";
import { lvslabPacketPeer, lvslabPeer } from "./peers/lvslab.ts";
import { lvslabDrPeer } from "./peers/lvslab-dr.ts";
import { measureTcp } from "./metrics/throughput.ts";
import { measureConnRate } from "./metrics/conn-rate.ts";
import { measureUdp } from "./metrics/udp-pps.ts";
import { clockTicksPerSecond, startCpuCount } from "./metrics/cpu.ts";
import { measureConnTable } from "./metrics/conn-table.ts";
import { parseWorkerSamples, summariseWorkerGc } from "./metrics/worker-gc.ts";
import { workerProfiles } from "./metrics/profile.ts";
import { renderReport } from "./report.ts";
import { benchCommit, writeSyncMicros } from "./host.ts";
import { medianOfRounds } from "./rounds.ts";
import type { BenchResult, Measurement, PeerId, ProfileResult } from "./types.ts";

const ALL_PEERS: PeerId[] = ["kernel", "nft", "haproxy", "lvslab", "lvslab-packet", "lvslab-dr"];
/** The peers whose packets to the VIP must reach lvslab's TUN device. */
const LVSLAB_PEERS: PeerId[] = ["lvslab", "lvslab-packet", "lvslab-dr"];
/**
 * The order peers run in, in every round. The lvslab peers go right before HAProxy: the
 * connections HAProxy terminated leave TIME_WAIT sockets on VIP:80 in the director's
 * namespace for a minute, and the kernel's early demux hands packets matching them to those
 * sockets instead of routing them into lvslab's TUN device (nftables DNAT and kernel
 * forwarding are unaffected). The kernel and nftables runs in between let them expire before
 * the next round.
 */
const RUN_ORDER: PeerId[] = ["lvslab", "lvslab-packet", "lvslab-dr", "haproxy", "kernel", "nft"];
/** The longest a TIME_WAIT socket lives (Linux's TCP_TIMEWAIT_LEN), plus a margin. */
const TIME_WAIT_MS = 65_000;
const TOOLS: Record<string, string> = {
  iperf3: "iperf3",
  wrk: "wrk",
  nginx: "nginx-light",
  haproxy: "haproxy",
  nft: "nftables",
};

interface Options {
  seconds?: string;
  rounds?: string;
  quick: boolean;
  json: boolean;
  peers: string;
  connections: string;
  engine: boolean;
  profile: boolean;
  out: string;
  from?: string;
  lvslabArgs: string;
}

const program = new Command()
  .name("bench")
  .description(
    "lvslab (VS/NAT and VS/DR) against kernel forwarding, nftables DNAT and HAProxy on one netns lab, in one run",
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
  .option("--connections <n>", "connection-table size for the engine-alone measurement", "1000000")
  .option("--no-engine", "skip the engine-alone (connection table) measurement")
  .option("--no-profile", "skip the profiled lvslab run")
  .option(
    "--lvslab-args <options>",
    "more lvslab-director options for every lvslab peer, space-separated (e.g. --transmit=off)",
    "",
  )
  .option("--from <json>", "only re-render the markdown of a saved result (no lab, no root)")
  .option("--out <dir>", "where results are written", path.join(REPO_ROOT, "bench", "results"));

function commandLine(): string {
  const args = process.argv.slice(2);
  const tail = args.length > 0 ? ` ${args.join(" ")}` : "";
  return process.env.npm_lifecycle_event === "bench"
    ? `npm run bench${tail ? ` --${tail}` : ""}`
    : `npx tsx bench/main.ts${tail}`;
}

function missingTools(): string[] {
  return Object.entries(TOOLS)
    .filter(([cmd]) =>
      runSync(["sh", "-c", `command -v ${cmd} || test -x /usr/sbin/${cmd}`]).code !== 0
    )
    .map(([, pkg]) => pkg);
}

function makePeer(id: PeerId, statsFile: string, directorArgs: string[]): Peer {
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
  }
}

type Log = (line: string) => void;

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

/** Bulk TCP both ways, 1 and 4 streams; the director's CPU per GB over the download runs. */
async function measureBulk(
  peer: Peer,
  seconds: number,
  push: Push,
  windows: Window[],
  log: Log,
): Promise<void> {
  let downCpu: number | null = 0;
  let downBytes = 0;
  for (const streams of [1, 4]) {
    for (const reverse of [false, true]) {
      const stopCpu = reverse ? startCpuCount(peer.directorPid()) : null;
      const tcp = await timed(
        windows,
        () => measureTcp({ target: peer.targets.tcp, streams, reverse, seconds }),
      );
      if (stopCpu) {
        const cpu = stopCpu().process;
        downCpu = downCpu === null || cpu === null ? null : downCpu + cpu;
        downBytes += tcp.bytes;
      }
      log(
        `  ${peer.label}: TCP ${streams} stream(s)${reverse ? " reverse" : ""}: ${
          tcp.gbps.toFixed(2)
        } Gbit/s`,
      );
      push(`tcp${streams}${reverse ? "Down" : "Up"}`, tcp.gbps);
    }
  }
  push(
    "cpuDirectorPerGB",
    downCpu !== null && downBytes > 0 ? (downCpu * 1e3) / (downBytes / 1e9) : null,
    downCpu === null ? NO_DIRECTOR_PROCESS : undefined,
  );
}

async function measurePeer(
  peer: Peer,
  seconds: number,
  out: Measurement[],
  warnings: string[],
  windows: Window[],
  log: Log,
): Promise<void> {
  const push: Push = (metric, value, note) =>
    out.push({ metric, peer: peer.id, value, ...(note ? { note } : {}) });
  await measureBulk(peer, seconds, push, windows, log);

  const stopHttpCpu = startCpuCount(peer.directorPid());
  const http = await timed(windows, () => measureConnRate({ url: peer.targets.http, seconds }));
  const httpCpu = stopHttpCpu();
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

  const udpTarget = peer.targets.udp;
  if (udpTarget === null) {
    const note = peer.udpNote ?? "not measured";
    for (const m of ["udpPps", "cpuMachinePerPkt", "cpuSoftirqPerPkt", "cpuDirectorPerPkt"]) {
      push(m, null, note);
    }
    return;
  }
  const stopUdpCpu = startCpuCount(peer.directorPid());
  const udp = await timed(windows, () => measureUdp(udpTarget, seconds));
  const udpCpu = stopUdpCpu();
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
 * The director's threads under node --cpu-prof: NAT over bulk uploads and new connections,
 * then DR over a download (what bounds its CPU per GB served).
 */
async function profiledRun(
  workDir: string,
  seconds: number,
  directorArgs: string[],
  log: Log,
): Promise<ProfileResult[]> {
  const natDir = path.join(workDir, "profile");
  const drDir = path.join(workDir, "profile-dr");
  for (const d of [natDir, drDir]) fs.mkdirSync(d, { recursive: true });
  const http: ProfiledLoad = {
    load: "new HTTP connections (wrk)",
    run: async (peer) =>
      `${
        (await measureConnRate({ url: peer.targets.http, seconds })).requestsPerSecond.toFixed(0)
      } conn/s`,
  };
  const nat = await profilePeer(
    lvslabPeer({ profileDir: natDir, label: "lvslab (profiled)", directorArgs }),
    natDir,
    workDir,
    [tcpLoad(1, false, seconds), tcpLoad(4, false, seconds), http],
    log,
  );
  const dr = await profilePeer(
    lvslabDrPeer({ profileDir: drDir, directorArgs }),
    drDir,
    workDir,
    [tcpLoad(1, true, seconds)],
    log,
  );
  return [...nat, ...dr.map((p) => ({ ...p, load: `VS/DR: ${p.load}` }))];
}

/** The bench's lab, tuned for tens of thousands of short connections, with nginx and iperf3. */
async function prepareLab(workDir: string, log: Log): Promise<void> {
  await labDown(LAB);
  log(`bringing up lab '${LAB}' (work files in ${workDir})`);
  await labUp({ name: LAB, director: false, topology: benchTopology() });
  const ns = (host: string) => namespaceName(LAB, host);
  // Wide port range, quick port reuse, deep backlogs.
  setSysctls(ns("client"), {
    "net.ipv4.ip_local_port_range": "1024 65000",
    "net.ipv4.tcp_tw_reuse": "1",
  });
  for (const host of ["director", "rs1", "rs2"]) {
    setSysctls(ns(host), {
      "net.core.somaxconn": "4096",
      "net.ipv4.tcp_max_syn_backlog": "4096",
    });
  }
  await startRealServers(workDir);
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

async function main(): Promise<void> {
  const opts = program.parse().opts<Options>();
  if (opts.from) {
    const saved = JSON.parse(fs.readFileSync(opts.from, "utf8")) as BenchResult;
    const markdown = renderReport(saved);
    fs.mkdirSync(opts.out, { recursive: true });
    fs.writeFileSync(path.join(opts.out, "latest.md"), markdown);
    process.stdout.write(opts.json ? JSON.stringify(saved, null, 2) + "\n" : markdown);
    return;
  }
  const seconds = Math.max(1, Math.min(60, Number(opts.seconds ?? (opts.quick ? 2 : 5)) || 5));
  const rounds = Math.max(1, Math.min(9, Number(opts.rounds ?? (opts.quick ? 1 : 3)) || 3));
  const peerIds = opts.peers.split(",").map((p) => p.trim()) as PeerId[];
  const unknown = peerIds.filter((p) => !ALL_PEERS.includes(p));
  if (unknown.length > 0) {
    throw new Error(`unknown peer(s) ${unknown.join(", ")}; choose from ${ALL_PEERS.join(", ")}`);
  }
  requireRoot();
  const missing = missingTools();
  if (missing.length > 0) {
    throw new Error(
      `the bench needs ${missing.join(", ")}; install with: sudo scripts/bench-deps.sh`,
    );
  }
  const log: Log = (line) => console.error(`bench: ${line}`);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-bench-"));
  const statsFile = path.join(workDir, "worker-stats.jsonl");
  const roundMeasurements: Measurement[][] = [];
  const warnings: string[] = [];
  const lvslabWindows: Window[] = [];
  let profiles: ProfileResult[] = [];
  const started = Date.now();
  // Read before anything runs: the commit the bench measures, and the syscall cost on an
  // idle machine.
  const commit = benchCommit();
  const syscallMicros = writeSyncMicros();
  log(`one fs.writeSync of 64 bytes costs ${syscallMicros.toFixed(2)} µs on this host`);

  let cleaning: Promise<void> | null = null;
  const cleanup = () =>
    cleaning ??= (async () => {
      await stopAll().catch(() => {});
      await labDown(LAB).catch((err: Error) => log(`lab teardown: ${err.message}`));
    })();
  const onSignal = (sig: NodeJS.Signals) => {
    log(`${sig}: stopping the load and removing lab '${LAB}'`);
    void cleanup().then(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  // Shown in the order (a)..(e), run in RUN_ORDER.
  const directorArgs = opts.lvslabArgs.split(/\s+/).filter((arg) => arg !== "");
  const peers = ALL_PEERS.filter((id) => peerIds.includes(id)).map((id) =>
    makePeer(id, statsFile, directorArgs)
  );
  try {
    await prepareLab(workDir, log);
    for (let round = 0; round < rounds; round++) {
      if (rounds > 1) log(`round ${round + 1} of ${rounds}`);
      const measurements: Measurement[] = [];
      roundMeasurements.push(measurements);
      for (const id of RUN_ORDER) {
        const peer = peers.find((p) => p.id === id);
        if (!peer) continue;
        const windows = peer.id === "lvslab" ? lvslabWindows : [];
        await runPeer(
          peer,
          workDir,
          () => measurePeer(peer, seconds, measurements, warnings, windows, log),
          log,
        );
        if (id === "lvslab" && round === 0 && opts.profile && !opts.quick) {
          profiles = await profiledRun(workDir, seconds, directorArgs, log);
        }
      }
    }
  } finally {
    await cleanup();
  }

  let connTable = null;
  if (opts.engine) {
    log(`engine alone: ${opts.connections} connections`);
    connTable = measureConnTable(Number(opts.connections));
  }
  const workerGc = fs.existsSync(statsFile)
    ? summariseWorkerGc(parseWorkerSamples(fs.readFileSync(statsFile, "utf8")), lvslabWindows)
    : null;

  const result: BenchResult = {
    command: commandLine(),
    date: new Date(started).toISOString(),
    machine: {
      cpus: os.cpus().length,
      kernel: os.release(),
      node: process.version,
      clockTicksPerSecond: clockTicksPerSecond(),
      kernelBuild: os.version(),
      writeSyncMicros: syscallMicros,
    },
    commit,
    seconds,
    quick: opts.quick,
    rounds,
    peers: peers.map((p) => ({ id: p.id, label: p.label })),
    measurements: medianOfRounds(roundMeasurements),
    connTable,
    workerGc,
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
