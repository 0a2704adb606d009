// Runs the system commands the netns backend is made of (ip, sysctl), bounded in time, and
// turns failures into sentences that show the command and what it said.
import { spawn, spawnSync } from "node:child_process";

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** Runs argv synchronously; never throws for a non-zero exit. */
export function runSync(argv: string[], timeoutMs = DEFAULT_TIMEOUT_MS): CommandResult {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", timeout: timeoutMs });
  if (r.error) {
    const err = r.error as NodeJS.ErrnoException;
    if (err.code === "ENOENT") {
      throw new Error(
        `'${argv[0]}' is not installed; install it (e.g. apt-get install iproute2) or use ./lvslab`,
      );
    }
    throw new Error(`${argv.join(" ")}: ${err.message}`);
  }
  return { code: r.status ?? 128 + 1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs argv and returns stdout; throws "<cmd> failed: <stderr>" on a non-zero exit. */
export function mustRun(argv: string[], timeoutMs = DEFAULT_TIMEOUT_MS): string {
  const r = runSync(argv, timeoutMs);
  if (r.code !== 0) {
    throw new Error(`'${argv.join(" ")}' failed: ${(r.stderr || r.stdout).trim()}`);
  }
  return r.stdout;
}

/** The command line that runs argv inside network namespace `ns` (`ip netns exec`). */
export function netnsExec(ns: string, argv: readonly string[]): string[] {
  return ["ip", "netns", "exec", ns, ...argv];
}

/** `ip` with arguments, inside namespace `ns` when given. */
export function ip(args: string[], ns?: string): string {
  return mustRun(ns ? ["ip", "-n", ns, ...args] : ["ip", ...args]);
}

/** Runs argv asynchronously, collecting output; kills it (SIGKILL) after timeoutMs. */
export function runAsync(
  argv: string[],
  options: { timeoutMs?: number; input?: string; cwd?: string; env?: Record<string, string> } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      cwd: options.cwd,
      env: options.env ? { ...process.env, ...options.env } : undefined,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    if (options.input !== undefined) child.stdin!.end(options.input);
    const timeoutMs = options.timeoutMs ?? 60_000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (timedOut) stderr += `\n(${argv.join(" ")} killed after ${timeoutMs} ms)`;
      resolve({ code: code ?? 128 + (signal === "SIGKILL" ? 9 : 15), stdout, stderr });
    });
  });
}
