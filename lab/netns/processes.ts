// Long-running lab programs (director, real servers): started detached inside a host's
// namespace with output to a log file, and considered started only once they print their
// ready line, so `up` never returns with a half-started lab.
import { spawn } from "node:child_process";
import fs from "node:fs";

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

/** Last `lines` lines of a file, for error messages. */
export function logTail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Starts the program and resolves with its PID once ready; rejects with the log tail. */
export async function startInNamespace(opts: StartOptions): Promise<number> {
  const fd = fs.openSync(opts.logFile, "w");
  // `ip netns exec` execs the program, so the PID is the program's own.
  const child = spawn("ip", ["netns", "exec", opts.namespace, ...opts.argv], {
    cwd: opts.cwd,
    detached: true,
    stdio: ["ignore", fd, fd],
  });
  fs.closeSync(fd);
  let exited: string | null = null;
  child.on("exit", (code, sig) => (exited = sig ? `was killed by ${sig}` : `exited with ${code}`));
  child.on("error", (err) => (exited = `could not start (${err.message})`));
  child.unref();

  const deadline = Date.now() + opts.readyTimeoutMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    let log = "";
    try {
      log = fs.readFileSync(opts.logFile, "utf8");
    } catch {
      // Not written yet.
    }
    if (log.includes(opts.readyText)) return child.pid!;
    if (exited) break;
  }
  if (!exited && child.pid) {
    try {
      process.kill(child.pid, "SIGKILL");
    } catch {
      // Gone meanwhile.
    }
  }
  const why = exited ?? `did not print '${opts.readyText}' within ${opts.readyTimeoutMs / 1000} s`;
  throw new Error(
    `${opts.what} ${why}; its log ${opts.logFile} ends with:\n${logTail(opts.logFile)}`,
  );
}
