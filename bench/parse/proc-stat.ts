// CPU time from /proc: the machine's totals (/proc/stat "cpu" line) and one process's
// user + system time (/proc/<pid>/stat fields 14 and 15), in clock ticks; and a process's
// resident memory (/proc/<pid>/status VmRSS).

export interface MachineCpu {
  /** user + nice + system + irq + softirq + steal: everything but idle and iowait. */
  busy: number;
  softirq: number;
  /** All columns summed. */
  total: number;
}

/** Parses the first ("cpu ") line of /proc/stat. */
export function parseMachineCpu(procStat: string): MachineCpu {
  const line = procStat.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) throw new Error("/proc/stat has no 'cpu' line");
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal = 0] = f;
  return {
    busy: user + nice + system + irq + softirq + steal,
    softirq,
    total: f.slice(0, 8).reduce((a, b) => a + (b || 0), 0),
  };
}

/** utime + stime of a process (all its threads) from /proc/<pid>/stat. */
export function parseProcessTicks(pidStat: string): number {
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  const rest = pidStat.slice(pidStat.lastIndexOf(")") + 2).trim().split(/\s+/);
  // rest[0] is field 3 (state): utime is field 14, stime field 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error("not a /proc/<pid>/stat line");
  }
  return utime + stime;
}

/** Resident memory of a process, in bytes, from /proc/<pid>/status ("VmRSS:  1234 kB"). */
export function parseVmRssBytes(pidStatus: string): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(pidStatus);
  if (!match) throw new Error("not a /proc/<pid>/status text with a VmRSS line");
  return Number(match[1]) * 1024;
}
