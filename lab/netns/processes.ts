// Programs run inside a host's namespace with their output in a log file: one way to start
// them (spawnInNamespace, a handle that can stop the program by its own PID) and one way to
// wait until they are ready (a line in the log, or any other check), used by the lab's
// long-running programs, the scenario runner's background steps and the benchmark.
import { spawn } from "node:child_process";
import fs from "node:fs";
import { netnsExec } from "./command.ts";

/** Last `lines` lines of a file, for error messages. */
export function logTail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

export interface SpawnOptions {
  namespace: string;
  argv: string[];
  cwd: string;
  logFile: string;
  env?: NodeJS.ProcessEnv;
  /** Outlive this process (lab programs stay after `lvslab up` returns). */
  detached?: boolean;
}

/** A program started in a namespace. */
export interface NamespaceProcess {
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code once the program ends, by itself or stopped. */
  readonly exited: Promise<number>;
  /** How it ended ("exited with 1", "was killed by SIGKILL"), or null while it runs. */
  endedHow(): string | null;
  /** SIGTERM, then SIGKILL after graceMs; resolves once the program has exited. */
  stop(graceMs?: number): Promise<void>;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** Starts argv in the namespace, its output (both streams) going to logFile. */
export function spawnInNamespace(opts: SpawnOptions): NamespaceProcess {
  const fd = fs.openSync(opts.logFile, "w");
  // `ip netns exec` execs the program, so the PID is the program's own.
  const [command, ...args] = netnsExec(opts.namespace, opts.argv);
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: opts.detached ?? false,
    stdio: ["ignore", fd, fd],
  });
  fs.closeSync(fd);
  if (opts.detached) child.unref();
  let how: string | null = null;
  const exited = new Promise<number>((resolve) => {
    child.on("exit", (code, sig) => {
      how = sig ? `was killed by ${sig}` : `exited with ${code}`;
      resolve(code ?? 128 + (sig === "SIGKILL" ? 9 : 15));
    });
    child.on("error", (err) => {
      how = `could not start (${err.message})`;
      resolve(127);
    });
  });
  return {
    pid: child.pid ?? -1,
    logFile: opts.logFile,
    exited,
    endedHow: () => how,
    async stop(graceMs = 3000) {
      if (how !== null || child.pid === undefined) {
        await exited;
        return;
      }
      // A detached child is unref'd: waiting for its exit must keep the event loop alive, or
      // a program stopped after a ready timeout ends the whole process with no error said.
      child.ref();
      signal(child.pid, "SIGTERM");
      const timer = setTimeout(() => signal(child.pid!, "SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** True once `text` appears in the file. */
export function logContains(file: string, text: string): boolean {
  try {
    return fs.readFileSync(file, "utf8").includes(text);
  } catch {
    return false; // not written yet
  }
}

/**
 * Waits (polling every 100 ms, at most timeoutMs) until ready() holds. A program that ends
 * or does not get ready in time is killed, and the error names it with its log's last lines.
 */
export async function waitUntilReady(
  proc: NamespaceProcess,
  ready: () => boolean,
  timeoutMs: number,
  what: string,
  waitingFor: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    if (ready()) return;
    if (proc.endedHow() !== null) break;
  }
  const why = proc.endedHow() ??
    `did not ${waitingFor} within ${timeoutMs / 1000} s`;
  await proc.stop(0);
  throw new Error(`${what} ${why}; its log ${proc.logFile} ends with:\n${logTail(proc.logFile)}`);
}

export interface StartOptions {
  namespace: string;
  argv: string[];
  cwd: string;
  logFile: string;
  /** Text that appears in the log once the program is ready. */
  readyText: string;
  readyTimeoutMs: number;
  /** Name used in error sentences, e.g. "the director". */
  what: string;
}

/** Starts a lab program (detached) and resolves with its PID once it printed its ready line. */
export async function startInNamespace(opts: StartOptions): Promise<number> {
  const proc = spawnInNamespace({ ...opts, detached: true });
  await waitUntilReady(
    proc,
    () => logContains(opts.logFile, opts.readyText),
    opts.readyTimeoutMs,
    opts.what,
    `print '${opts.readyText}'`,
  );
  return proc.pid;
}
