// The director's system calls per packet over one load run: the kernel's raw_syscalls:sys_enter
// tracepoint counted per thread by `perf stat --per-thread -p <director pid>` (in-kernel
// counting, nothing is recorded per call), divided by the packets the director read from its
// TUN device in the same window (lvs-stats). Split by thread: the packet thread, the transmit
// thread (their Linux thread ids come from lvs-stats) and the rest (main thread, V8 and libuv
// helpers). Issue 16 asks for this number before and after each change of the data path.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { mustExec } from "../peers/direct-return.ts";
import type { PeerId, SyscallSample, SyscallSplit } from "../types.ts";

/** The tracepoint: one event per syscall entry, any syscall. */
export const SYSCALL_EVENT = "raw_syscalls:sys_enter";
/** How long perf may take to write its counts after SIGINT. */
const PERF_EXIT_MS = 5_000;

/**
 * `perf stat -x, --per-thread` output → syscalls by thread id. Each counted line reads
 * `<comm>-<tid>,<count>,<unit>,<event>,...`; threads that made no syscall say
 * `<not counted>`; comments (#) and blank lines are skipped. Throws on a line it cannot read.
 */
export function parsePerfPerThread(text: string): Map<number, number> {
  const counts = new Map<number, number>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const fields = line.split(",");
    const thread = /-(\d+)$/.exec(fields[0] ?? "");
    if (thread === null || fields.length < 4 || fields[3] !== SYSCALL_EVENT) {
      throw new Error(`perf stat printed a line the bench cannot read: '${line}'`);
    }
    const value = fields[1]!;
    const count = value.startsWith("<") ? 0 : Number(value);
    if (!Number.isFinite(count)) throw new Error(`perf stat count '${value}' is not a number`);
    const tid = Number(thread[1]);
    counts.set(tid, (counts.get(tid) ?? 0) + count);
  }
  return counts;
}

/** The counts split into the packet thread, the transmit threads (none: []) and the rest. */
export function splitByThread(
  counts: Map<number, number>,
  ids: { packet: number; transmit: number[] },
): SyscallSplit {
  let total = 0;
  for (const n of counts.values()) total += n;
  const packet = counts.get(ids.packet) ?? 0;
  let transmit = 0;
  for (const id of ids.transmit) transmit += counts.get(id) ?? 0;
  return { packet, transmit, other: total - packet - transmit, total };
}

/** The packets a director has read so far and its threads' ids (lvs-stats --json). */
async function directorCounters(): Promise<
  { packets: number; packet: number; transmit: number[] }
> {
  const stats = JSON.parse(await mustExec("director", ["lvs-stats", "--json"])) as {
    packetsRead: number;
    packetThreadId: number;
    transmitThreadIds: number[];
  };
  return {
    packets: stats.packetsRead,
    packet: stats.packetThreadId,
    transmit: stats.transmitThreadIds,
  };
}

/** Runs perf on `pid` until the returned function stops it; that resolves with the counts. */
function countSyscalls(pid: number, outFile: string): () => Promise<Map<number, number>> {
  const perf = spawn(
    "perf",
    ["stat", "-e", SYSCALL_EVENT, "--per-thread", "-x", ",", "-o", outFile, "-p", String(pid)],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  perf.stderr.on("data", (chunk) => stderr += String(chunk));
  // perf stat prints its counts on SIGINT and then ends by that signal.
  const exited = new Promise<string>((resolve) => {
    perf.on(
      "exit",
      (code, signal) => resolve(code === 0 || signal === "SIGINT" ? "" : `${code ?? signal}`),
    );
    perf.on("error", (err) => resolve(err.message));
  });
  return async () => {
    perf.kill("SIGINT");
    const timer = setTimeout(() => perf.kill("SIGKILL"), PERF_EXIT_MS);
    const failure = await exited;
    clearTimeout(timer);
    if (failure !== "") {
      throw new Error(
        `perf stat on the director (pid ${pid}) failed (${failure}): ${stderr.trim()}; ` +
          "install it with: sudo scripts/bench-deps.sh",
      );
    }
    return parsePerfPerThread(fs.readFileSync(outFile, "utf8"));
  };
}

/**
 * Starts counting an lvslab director's syscalls and packets for one load run; the returned
 * function ends the window and gives its sample.
 */
export async function startSyscallWindow(
  pid: number,
  workDir: string,
  peer: PeerId,
  load: string,
): Promise<() => Promise<SyscallSample>> {
  const stop = countSyscalls(pid, path.join(workDir, `perf-${peer}-${load}.csv`));
  // Read after perf started: lvs-stats takes long enough for it to attach.
  const before = await directorCounters();
  return async () => {
    const after = await directorCounters();
    const syscalls = splitByThread(await stop(), after);
    const packetsRead = after.packets - before.packets;
    const per = (n: number) => n / packetsRead;
    return {
      peer,
      load,
      packetsRead,
      syscalls,
      perPacket: packetsRead > 0
        ? {
          packet: per(syscalls.packet),
          transmit: per(syscalls.transmit),
          other: per(syscalls.other),
          total: per(syscalls.total),
        }
        : null,
    };
  };
}
