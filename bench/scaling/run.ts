// `npm run bench -- --scaling`: each point of bench/scaling/plan.ts on the bench's lab. At a
// point a director starts with that point's service table (and --allow-test-fill), takes its
// synthetic entries, gets a short warm-up load, then the measured one: wrk's new connections
// (each request on a connection of its own) to VIP:80, with the director process's CPU time
// (/proc) and the packets it counted (lvs-stats) around it; then it stops and the lab's hosts
// must be as before. Then the engine alone at each table size, for memory per entry.
import fs from "node:fs";
import path from "node:path";
import { execIn } from "../../lab/netns/lab.ts";
import { REPO_ROOT } from "../../lab/paths.ts";
import { LAB, VIP } from "../config.ts";
import { onBenchLab } from "../bench-lab.ts";
import { startLvslabDirector } from "../peers/lvslab-director.ts";
import { measureConnRate } from "../metrics/conn-rate.ts";
import { startCpuCount } from "../metrics/cpu.ts";
import { measureConnTable } from "../metrics/conn-table.ts";
import { parseVmRssBytes } from "../parse/proc-stat.ts";
import { labNetState, stateDiff } from "../net-state.ts";
import { median } from "../rounds.ts";
import type { FillResult } from "../../director/engine/synthetic-fill.ts";
import {
  extraServerPorts,
  MEMORY_SIZES,
  SCALING_MAX_CONNECTIONS,
  SCALING_SCHEDULER,
  scalingConfig,
  type ScalingPointPlan,
  scalingPoints,
  SERVER_COUNTS,
} from "./plan.ts";
import type { ConnTableResult, ScalingPoint, ScalingResult, ScalingSample } from "../types.ts";

type Log = (line: string) => void;

export interface ScalingRun {
  workDir: string;
  seconds: number;
  rounds: number;
  /** More lvslab-director options (--lvslab-args). */
  directorArgs: string[];
  log: Log;
}

/** A load before the measured one, so the director's code is compiled when it counts. */
const WARM_UP_SECONDS = 1;
const URL = `http://${VIP}/`;
/** A director with 1,000 services on a machine shared with other work may take a while. */
const READY_TIMEOUT_MS = 60_000;

async function mustExec(host: string, argv: string[], timeoutMs = 30_000): Promise<string> {
  const r = await execIn(host, argv, { name: LAB, timeoutMs });
  if (r.code !== 0) {
    throw new Error(`'${argv.join(" ")}' in ${host} failed: ${(r.stderr || r.stdout).trim()}`);
  }
  return r.stdout;
}

/** Packets the director counted so far, both directions (lvs-stats --json). */
async function directorPackets(): Promise<number> {
  const stats = JSON.parse(await mustExec("director", ["lvs-stats", "--json"])) as {
    totals: { inpkts: number; outpkts: number };
  };
  return stats.totals.inpkts + stats.totals.outpkts;
}

function rssBytes(pid: number): number {
  return parseVmRssBytes(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
}

async function fill(count: number): Promise<FillResult> {
  const client = path.join(REPO_ROOT, "bench", "scaling", "fill-client.ts");
  const out = await mustExec(
    "director",
    [process.execPath, "--import", "tsx", client, "tcp", VIP, "80", String(count)],
    180_000,
  );
  const result = JSON.parse(out) as FillResult;
  if (result.added !== count) throw new Error(`the fill added ${result.added} of ${count} entries`);
  return result;
}

/** The measured load at a running director: wrk, with the director's CPU and packets around it. */
async function measuredLoad(pid: number, seconds: number): Promise<ScalingSample> {
  const packets0 = await directorPackets();
  const stopCpu = startCpuCount(pid);
  const http = await measureConnRate({ url: URL, seconds });
  const cpu = stopCpu().process;
  const packets = (await directorPackets()) - packets0;
  return {
    connRate: http.requestsPerSecond,
    latP50Ms: http.latencyMs["50"] ?? null,
    latP99Ms: http.latencyMs["99"] ?? null,
    cpuPerPacketNs: cpu !== null && packets > 0 ? (cpu * 1e9) / packets : null,
    cpuPerConnUs: cpu !== null && http.requests > 0 ? (cpu * 1e6) / http.requests : null,
    packets,
    requests: http.requests,
    errors: http.socketErrors + http.non2xx,
  };
}

/** One round of one point: a director of its own, its fill, warm-up, the measured load. */
async function samplePoint(plan: ScalingPointPlan, run: ScalingRun): Promise<ScalingSample> {
  const before = await labNetState();
  const proc = await startLvslabDirector({ workDir: run.workDir, log: run.log }, {
    method: "masq",
    privateDev: "eth1",
    config: scalingConfig(plan),
    directorArgs: ["--allow-test-fill", ...run.directorArgs],
    fileTag: `director-${plan.dimension}-${plan.at}`,
    readyTimeoutMs: READY_TIMEOUT_MS,
  });
  let sample: ScalingSample;
  try {
    let filled: Pick<ScalingSample, "fillMs" | "rssBytesPerEntry"> = {};
    if (plan.fill > 0) {
      const rss0 = rssBytes(proc.pid);
      const r = await fill(plan.fill);
      filled = { fillMs: r.ms, rssBytesPerEntry: (rssBytes(proc.pid) - rss0) / plan.fill };
    }
    await measureConnRate({ url: URL, seconds: WARM_UP_SECONDS });
    sample = { ...(await measuredLoad(proc.pid, run.seconds)), ...filled };
  } finally {
    await proc.stop(10_000);
  }
  const diff = stateDiff(before, await labNetState());
  if (diff !== "") throw new Error(`the director left the lab's hosts changed:\n${diff}`);
  return sample;
}

const NUMERIC_FIELDS = [
  "connRate",
  "latP50Ms",
  "latP99Ms",
  "cpuPerPacketNs",
  "cpuPerConnUs",
  "packets",
  "requests",
  "errors",
  "fillMs",
  "rssBytesPerEntry",
] as const;

/** The point's value of each field: the median of its rounds (fields no round has stay out). */
export function foldRounds(plan: ScalingPointPlan, samples: ScalingSample[]): ScalingPoint {
  const folded: Record<string, number | null> = {};
  for (const field of NUMERIC_FIELDS) {
    if (samples.every((s) => s[field] === undefined)) continue;
    folded[field] = median(samples.map((s) => s[field]));
  }
  return {
    dimension: plan.dimension,
    at: plan.at,
    ...(folded as unknown as ScalingSample),
    samples,
  };
}

function describe(plan: ScalingPointPlan, s: ScalingSample): string {
  const what = { table: "entries", servers: "real servers", services: "services" }[plan.dimension];
  return `${plan.at} ${what}: ${s.connRate.toFixed(0)} conn/s, p99 ${s.latP99Ms} ms, ` +
    `${s.cpuPerPacketNs?.toFixed(0) ?? "n/a"} ns director CPU per packet` +
    (s.fillMs !== undefined ? ` (fill ${s.fillMs.toFixed(0)} ms)` : "");
}

/** Every point, every round; then the engine alone. */
export async function runScaling(
  run: ScalingRun,
): Promise<Pick<ScalingResult, "scheduler" | "maxConnections" | "points" | "memory" | "warnings">> {
  const plans = scalingPoints();
  const samples: ScalingSample[][] = plans.map(() => []);
  const warnings: string[] = [];
  await onBenchLab(run.workDir, run.log, async () => {
    for (let round = 0; round < run.rounds; round++) {
      if (run.rounds > 1) run.log(`round ${round + 1} of ${run.rounds}`);
      for (const [i, plan] of plans.entries()) {
        const s = await samplePoint(plan, run);
        run.log(describe(plan, s));
        if (s.errors > 0) {
          warnings.push(
            `${plan.dimension} ${plan.at}: wrk saw ${s.errors} errors in ${s.requests} requests`,
          );
        }
        samples[i].push(s);
      }
    }
  }, extraServerPorts(Math.max(...SERVER_COUNTS)));
  const memory: ConnTableResult[] = [];
  for (const n of MEMORY_SIZES) {
    run.log(`engine alone: ${n} connections`);
    memory.push(measureConnTable(n));
  }
  return {
    scheduler: SCALING_SCHEDULER,
    maxConnections: SCALING_MAX_CONNECTIONS,
    points: plans.map((plan, i) => foldRounds(plan, samples[i])),
    memory,
    warnings,
  };
}
