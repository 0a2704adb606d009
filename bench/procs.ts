// Programs the bench leaves running in lab hosts (nginx, iperf3 servers, HAProxy, the
// director): started in a host's namespace with output to a log file, considered started
// once they print a ready line or listen on their port, and stopped by their own PID.
// Every program started here is remembered so a failure or Ctrl-C can stop them all.
import { netnsExec, runSync } from "../lab/netns/command.ts";
import { logContains, spawnInNamespace, waitUntilReady } from "../lab/netns/processes.ts";
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
  const r = runSync(netnsExec(namespace, ["ss", "-Hltn"]));
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
  const child = spawnInNamespace({
    namespace,
    argv,
    cwd: options.cwd ?? process.cwd(),
    logFile: options.logFile,
    env: options.env,
  });
  const proc: Background = {
    name,
    pid: child.pid,
    logFile: options.logFile,
    stop(graceMs = 5000) {
      running.delete(proc);
      return child.stop(graceMs);
    },
  };
  running.add(proc);
  const { text, tcpListen } = options.ready;
  try {
    await waitUntilReady(
      child,
      () =>
        (!text || logContains(options.logFile, text)) &&
        (!tcpListen || listening(namespace, tcpListen)),
      options.timeoutMs ?? 15_000,
      `${name} in ${host}`,
      "become ready",
    );
  } catch (err) {
    running.delete(proc);
    throw err;
  }
  return proc;
}

/** Stops every program still running (error and Ctrl-C paths). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop(2000)));
}
