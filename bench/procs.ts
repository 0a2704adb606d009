// Programs the bench leaves running in lab hosts (nginx, iperf3 servers, HAProxy, the
// director): started in a host's namespace with output to a log file, considered started
// once they print a ready line or listen on their port, and stopped by their own PID.
// Every program started here is remembered so a failure or Ctrl-C can stop them all.
import { spawn } from "node:child_process";
import fs from "node:fs";
import { runSync } from "../lab/netns/command.ts";
import { logTail } from "../lab/netns/processes.ts";
import { namespaceName } from "../lab/topology.ts";
import { LAB } from "./config.ts";

export interface Ready {
  /** Text the log shows once the program is ready. */
  text?: string;
  /** "addr:port" the program listens on (TCP) once ready. */
  tcpListen?: string;
}

export interface Background {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the program has exited. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<Background>();

function listening(namespace: string, addrPort: string): boolean {
  const r = runSync(["ip", "netns", "exec", namespace, "ss", "-Hltn"]);
  return r.code === 0 && r.stdout.split("\n").some((l) => l.split(/\s+/)[3] === addrPort);
}

/** Starts argv in lab host `host`; resolves once ready, rejects with the log's tail. */
export async function startIn(
  host: string,
  name: string,
  argv: string[],
  options: {
    logFile: string;
    ready: Ready;
    timeoutMs?: number;
    cwd?: string;
    env?: NodeJS.ProcessEnv;
  },
): Promise<Background> {
  const namespace = namespaceName(LAB, host);
  const fd = fs.openSync(options.logFile, "w");
  // `ip netns exec` execs the program: the PID is the program's own.
  const child = spawn("ip", ["netns", "exec", namespace, ...argv], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ["ignore", fd, fd],
  });
  fs.closeSync(fd);
  let exitedHow: string | null = null;
  const exited = new Promise<void>((resolve) => {
    child.on("exit", (code, sig) => {
      exitedHow = sig ? `was killed by ${sig}` : `exited with ${code}`;
      resolve();
    });
    child.on("error", (err) => {
      exitedHow = `could not start (${err.message})`;
      resolve();
    });
  });
  const proc: Background = {
    name,
    pid: child.pid ?? -1,
    logFile: options.logFile,
    async stop(graceMs = 5000) {
      running.delete(proc);
      if (exitedHow !== null || child.pid === undefined) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  running.add(proc);
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  while (Date.now() < deadline && exitedHow === null) {
    await new Promise((r) => setTimeout(r, 100));
    const { text, tcpListen } = options.ready;
    const log = text ? fs.readFileSync(options.logFile, "utf8") : "";
    if ((!text || log.includes(text)) && (!tcpListen || listening(namespace, tcpListen))) {
      return proc;
    }
  }
  const why = exitedHow ?? "did not become ready in time";
  await proc.stop(1000);
  throw new Error(
    `${name} in ${host} ${why}; its log ${options.logFile} ends with:\n${logTail(options.logFile)}`,
  );
}

/** Stops every program still running (error and Ctrl-C paths). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop(2000)));
}
