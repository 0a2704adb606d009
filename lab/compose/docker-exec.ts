// Runs programs inside a container through the Docker API (dockerode): collected with
// separate stdout/stderr and the exit code, or left running in the background with its output
// in a local log file. The Docker API cannot signal an exec'd process, so every program is
// started through a tiny shell wrapper that records its PID in the container first; timeouts
// and stop() signal that PID with `kill`, run in the container.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import type { Duplex } from "node:stream";
import type Docker from "dockerode";
import type { BackgroundProcess } from "../backend.ts";
import type { CommandResult } from "../netns/command.ts";

/** Where wrapped programs record their PIDs, inside the container. */
const PID_DIR = "/tmp/lvslab-pids";
/** How long a stopped program gets between SIGTERM and SIGKILL. */
const STOP_GRACE_MS = 3000;

/** argv that records the program's PID in pidFile, then becomes the program. */
function wrapped(argv: string[], pidFile: string): string[] {
  return [
    "/bin/sh",
    "-c",
    `mkdir -p ${PID_DIR} && echo $$ > "$1" && shift && exec "$@"`,
    "lvslab-exec",
    pidFile,
    ...argv,
  ];
}

function newPidFile(): string {
  return `${PID_DIR}/${crypto.randomBytes(6).toString("hex")}.pid`;
}

interface Started {
  stream: Duplex;
  exec: Docker.Exec;
}

async function startExec(
  container: Docker.Container,
  argv: string[],
  withStdin: boolean,
): Promise<Started> {
  const exec = await container.exec({
    Cmd: argv,
    AttachStdin: withStdin,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
  });
  const stream = await exec.start({ hijack: true, stdin: withStdin }) as unknown as Duplex;
  return { stream, exec };
}

/** The exec's exit code once Docker reports it finished (bounded wait). */
async function exitCode(exec: Docker.Exec): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const info = await exec.inspect();
    if (!info.Running) return info.ExitCode ?? 128 + 9;
    await new Promise((r) => setTimeout(r, 100));
  }
  return 128 + 9;
}

function ended(stream: Duplex): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (!done) (done = true, resolve());
    };
    stream.on("end", finish);
    stream.on("close", finish);
    stream.on("error", finish);
  });
}

/**
 * Signals the program whose PID is in pidFile (quietly: it may be gone). TERM goes to the
 * program alone, which ends its own children; KILL goes to its whole process tree, so that
 * nothing it started stays behind holding its output open.
 */
async function signalPidFile(
  container: Docker.Container,
  pidFile: string,
  signal: "TERM" | "KILL",
): Promise<void> {
  const script = signal === "TERM"
    ? `kill -TERM "$pid"`
    : `tree() { echo "$1"; for c in $(ps -o pid= --ppid "$1"); do tree "$c"; done; }; kill -KILL $(tree "$pid")`;
  try {
    const { stream } = await startExec(container, [
      "/bin/sh",
      "-c",
      `[ -f "$1" ] || exit 0; pid="$(cat "$1")"; ${script} 2>/dev/null; true`,
      "lvslab-signal",
      pidFile,
    ], false);
    stream.resume();
    await ended(stream);
  } catch {
    // The container is gone: so is the program.
  }
}

/** Runs argv in the container and collects its output; SIGKILLs it after timeoutMs. */
export async function execCollect(
  docker: Docker,
  container: Docker.Container,
  argv: string[],
  options: { timeoutMs?: number; input?: string } = {},
): Promise<CommandResult> {
  const pidFile = newPidFile();
  const withStdin = options.input !== undefined;
  const { stream, exec } = await startExec(container, wrapped(argv, pidFile), withStdin);
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = "";
  let stderr = "";
  out.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  err.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  docker.modem.demuxStream(stream, out, err);
  if (withStdin) {
    // Half-close after the input: the program sees end of file on its stdin.
    stream.end(options.input);
  }
  const timeoutMs = options.timeoutMs ?? 60_000;
  let timedOut = false;
  let lastResort: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    void signalPidFile(container, pidFile, "KILL");
    // Children that inherited its output could keep the stream open: stop waiting anyway.
    lastResort = setTimeout(() => stream.destroy(), STOP_GRACE_MS);
  }, timeoutMs);
  await ended(stream);
  clearTimeout(timer);
  clearTimeout(lastResort);
  const code = await exitCode(exec);
  if (timedOut) stderr += `\n(killed after ${timeoutMs} ms)`;
  return { code, stdout, stderr };
}

/** Starts argv in the container in the background; its stdout and stderr go to logFile. */
export async function execBackground(
  docker: Docker,
  container: Docker.Container,
  argv: string[],
  logFile: string,
): Promise<BackgroundProcess> {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const log = fs.createWriteStream(logFile);
  await new Promise<void>((resolve, reject) => {
    log.once("open", () => resolve());
    log.once("error", reject);
  });
  const pidFile = newPidFile();
  const { stream, exec } = await startExec(container, wrapped(argv, pidFile), false);
  // Both streams into one log, as a program's terminal would show them.
  docker.modem.demuxStream(stream, log, log);
  let done = false;
  const exited = ended(stream).then(async () => {
    done = true;
    const code = await exitCode(exec).catch(() => 128 + 9);
    await new Promise<void>((resolve) => log.end(resolve));
    return code;
  });
  const stop = async (): Promise<void> => {
    if (done) {
      await exited;
      return;
    }
    await signalPidFile(container, pidFile, "TERM");
    const grace = new Promise<"late">((r) => setTimeout(() => r("late"), STOP_GRACE_MS));
    if (await Promise.race([exited, grace]) === "late") {
      await signalPidFile(container, pidFile, "KILL");
      // The stream ends with the program; a vanished container ends it too.
      const bound = new Promise<void>((r) => setTimeout(r, STOP_GRACE_MS));
      await Promise.race([exited, bound]);
      if (!done) stream.destroy();
    }
    await exited;
  };
  return { stop, exited };
}

/** Splits Docker's multiplexed log format (8-byte frame headers) into stdout and stderr. */
export function demuxBuffer(buf: Buffer): { stdout: string; stderr: string } {
  const parts: { stdout: Buffer[]; stderr: Buffer[] } = { stdout: [], stderr: [] };
  let i = 0;
  while (i + 8 <= buf.length) {
    const kind = buf[i];
    const size = buf.readUInt32BE(i + 4);
    const body = buf.subarray(i + 8, i + 8 + size);
    (kind === 2 ? parts.stderr : parts.stdout).push(body);
    i += 8 + size;
  }
  return {
    stdout: Buffer.concat(parts.stdout).toString("utf8"),
    stderr: Buffer.concat(parts.stderr).toString("utf8"),
  };
}
