// CPU time spent during a load run: the whole machine's busy time and softirq time
// (/proc/stat; network namespaces share the CPUs, so kernel forwarding shows up here) and
// one process's utime+stime (the director's, where there is a director process), or several
// processes' summed over runs and divided by the bytes they moved (CPU per GB).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { parseMachineCpu, parseProcessTicks } from "../parse/proc-stat.ts";

let ticksPerSecond = 0;

/** USER_HZ, the unit of /proc/stat (almost always 100). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === 0) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    } catch {
      ticksPerSecond = 100;
    }
    if (!(ticksPerSecond > 0)) ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

export interface CpuUsage {
  /** Seconds of CPU time. */
  machineBusy: number;
  softirq: number;
  /** The process's CPU seconds, or null when no process was given (or it vanished). */
  process: number | null;
}

function processTicks(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    return parseProcessTicks(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return null;
  }
}

/** Starts counting; the returned function stops and reports the CPU time in between. */
export function startCpuCount(pid: number | null): () => CpuUsage {
  const m0 = parseMachineCpu(fs.readFileSync("/proc/stat", "utf8"));
  const p0 = processTicks(pid);
  return () => {
    const m1 = parseMachineCpu(fs.readFileSync("/proc/stat", "utf8"));
    const p1 = processTicks(pid);
    const hz = clockTicksPerSecond();
    return {
      machineBusy: (m1.busy - m0.busy) / hz,
      softirq: (m1.softirq - m0.softirq) / hz,
      process: p0 !== null && p1 !== null ? (p1 - p0) / hz : null,
    };
  };
}

/** Starts counting the CPU time of several processes; the result is their sum (null: one vanished). */
export function startProcessesCpuCount(pids: number[]): () => number | null {
  const before = pids.map(processTicks);
  return () => {
    const after = pids.map(processTicks);
    let ticks = 0;
    for (const [i, b] of before.entries()) {
      const a = after[i]!;
      if (a === null || b === null) return null;
      ticks += a - b;
    }
    return ticks / clockTicksPerSecond();
  };
}

/** One process's (or several's) CPU time over some runs and the bytes they moved. */
export class CpuPerGB {
  private seconds: number | null = 0;
  private bytes = 0;

  /** Starts counting `pids` over one run; the returned function ends it with its bytes. */
  start(pids: (number | null)[]): (bytes: number) => void {
    const stop = pids.every((p) => p !== null) ? startProcessesCpuCount(pids) : () => null;
    return (bytes) => {
      const cpu = stop();
      this.seconds = this.seconds === null || cpu === null ? null : this.seconds + cpu;
      this.bytes += bytes;
    };
  }

  /** ms of CPU per GB (10^9 bytes), or null (no process, or nothing moved). */
  msPerGB(): number | null {
    return this.seconds !== null && this.bytes > 0
      ? (this.seconds * 1e3) / (this.bytes / 1e9)
      : null;
  }
}
