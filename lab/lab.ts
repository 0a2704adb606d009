// The lab's programmatic API: bring a lab up or down, ask its status, run commands on its
// hosts. The CLI verbs and the lab tests are thin layers over these functions.
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { type CommandResult, ip, netnsExec, runAsync } from "./netns/command.ts";
import { buildTopology, type BuiltNetwork } from "./netns/build.ts";
import {
  deleteNamespace,
  isAlive,
  labNamespacesPresent,
  namespaceOfPid,
  stopNamespaceProcesses,
} from "./netns/namespaces.ts";
import { startInNamespace } from "./netns/processes.ts";
import {
  checkLabName,
  DEFAULT_LAB_NAME,
  defaultTopology,
  directorPrivateInterface,
  namespaceName,
  type Topology,
  validateTopology,
} from "./topology.ts";
import {
  DEFAULT_RUN_DIR,
  type LabProcess,
  type LabState,
  readState,
  removeStateDir,
  stateDir,
  stateFile,
  writeState,
} from "./state.ts";
import { DEFAULT_CONFIG, REPO_ROOT, userPath } from "./paths.ts";
import { loadDirectorConfig } from "../director/config/service-config.ts";
import { findVsftpd } from "../realservers/vsftpd.ts";
import { READY_LINES } from "../director/ready-lines.ts";

export interface LabUpOptions {
  /** Lab name, the prefix of every namespace (default "lvslab"). */
  name?: string;
  /** Director service table (default lab/default-services.yaml); relative to the user's cwd. */
  config?: string;
  /** Start the director (default true). */
  director?: boolean;
  /** More lvslab-director options (e.g. ["--transmit", "always"]). */
  directorArgs?: string[];
  /** Where state directories live (default /run/lvslab). */
  runDir?: string;
  /** How long each program may take to print its ready line (default 15000). */
  readyTimeoutMs?: number;
  topology?: Topology;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface DownReport {
  name: string;
  namespaces: string[];
  pids: number[];
  /** The state directory that was removed, or null when there was none. */
  stateDir: string | null;
  warnings: string[];
}

export interface HostStatus {
  host: string;
  namespace: string;
  present: boolean;
  /** "dev address/len" per IPv4 address. */
  addresses: string[];
}

export interface ProcessStatus extends LabProcess {
  alive: boolean;
}

export interface LabStatus {
  name: string;
  up: boolean;
  state: LabState | null;
  hosts: HostStatus[];
  processes: ProcessStatus[];
  warnings: string[];
}

export class NotRootError extends Error {}
export class LabAlreadyUpError extends Error {}
export class LabNotUpError extends Error {}

/** Throws the sentence users see when they forgot sudo. */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new NotRootError("lvslab needs root to create network namespaces; run it with sudo");
  }
}

/** True when anything of the lab exists (a namespace or a state file). */
export function isLabUp(name = DEFAULT_LAB_NAME, runDir = DEFAULT_RUN_DIR): boolean {
  checkLabName(name);
  return labNamespacesPresent(name).length > 0 || fs.existsSync(stateFile(name, runDir));
}

function nodeProgram(script: string, args: string[]): string[] {
  // process.execPath: sudo's PATH may not hold the node that runs lvslab.
  return [process.execPath, "--import", "tsx", path.join(REPO_ROOT, script), ...args];
}

/** Builds the lab, starts its programs, writes the state file; returns the state. */
export async function labUp(options: LabUpOptions = {}): Promise<LabState> {
  requireRoot();
  const name = options.name ?? DEFAULT_LAB_NAME;
  checkLabName(name);
  const runDir = options.runDir ?? DEFAULT_RUN_DIR;
  const topology = options.topology ?? defaultTopology();
  const log = options.log ?? (() => {});
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  const withDirector = options.director ?? true;
  const problems = validateTopology(topology);
  if (problems.length > 0) {
    throw new Error(`the topology is not sound:\n  ${problems.join("\n  ")}`);
  }

  const configPath = options.config ? userPath(options.config) : DEFAULT_CONFIG;
  if (!fs.existsSync(configPath)) {
    throw new Error(`service config ${configPath} does not exist; pass --config <file>`);
  }
  // Validate now: a bad table should fail before anything is built.
  if (withDirector) loadDirectorConfig(configPath);

  if (isLabUp(name, runDir)) {
    throw new LabAlreadyUpError(`lab '${name}' is already up; run 'lvslab down' first`);
  }

  const dir = stateDir(name, runDir);
  fs.mkdirSync(dir, { recursive: true });
  const built: BuiltNetwork = { namespaces: [], bridges: [], veths: [] };
  const state: LabState = {
    version: 1,
    name,
    createdAt: new Date().toISOString(),
    repoRoot: REPO_ROOT,
    configPath: withDirector ? configPath : null,
    ...built,
    processes: [],
  };
  try {
    log(
      `building lab '${name}': ${topology.hosts.length} hosts, ${topology.networks.length} networks`,
    );
    // The state file exists from the first namespace on, so a crash leaves a trace.
    writeState(state, runDir);
    buildTopology(name, topology, built);
    Object.assign(state, built);
    writeState(state, runDir);

    const start = async (p: Omit<LabProcess, "pid" | "namespace" | "log">, ready: string) => {
      const namespace = namespaceName(name, p.host);
      const logFile = path.join(dir, `${p.name}.log`);
      const what = p.name === "director" ? "the director" : `the ${p.name} program`;
      const pid = await startInNamespace({
        namespace,
        argv: p.argv,
        cwd: REPO_ROOT,
        logFile,
        readyText: ready,
        readyTimeoutMs,
        what,
      });
      state.processes.push({ ...p, pid, namespace, log: logFile });
      writeState(state, runDir);
      log(`started ${p.name} in ${namespace} (pid ${pid})`);
    };
    const servers = topology.hosts.filter((h) => h.http).map((h) =>
      start({
        name: `${h.name}-http`,
        host: h.name,
        argv: nodeProgram("realservers/http-server.ts", [
          "--name",
          h.http!.name,
          ...h.http!.listen.flatMap((l) => ["--listen", l]),
        ]),
      }, READY_LINES.httpServer)
    );
    // FTP servers need vsftpd: without it the lab still comes up, and says so.
    const ftpHosts = topology.hosts.filter((h) => h.ftp);
    if (ftpHosts.length > 0 && findVsftpd() === null) {
      log("vsftpd is not installed: no FTP server runs (apt-get install vsftpd)");
    } else {
      for (const h of ftpHosts) {
        servers.push(start({
          name: `${h.name}-ftp`,
          host: h.name,
          argv: nodeProgram("realservers/ftp-server.ts", [
            "--name",
            h.name,
            "--listen",
            h.ftp!.listen,
            "--root",
            path.join(dir, `${h.name}-ftp`),
          ]),
        }, READY_LINES.ftpServer));
      }
    }
    const director = topology.hosts.find((h) => h.role === "director")!;
    const starts = [...servers];
    if (withDirector) {
      starts.push(start({
        name: "director",
        host: director.name,
        argv: nodeProgram("director/main.ts", [
          "--config",
          configPath,
          "--private-dev",
          directorPrivateInterface(topology).name,
          ...(options.directorArgs ?? []),
        ]),
      }, READY_LINES.director));
    }
    const results = await Promise.allSettled(starts);
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  } catch (err) {
    // Remove what was made but keep the logs for the post-mortem.
    await removeLab(name, runDir, built.namespaces, true).catch(() => {});
    const kept = fs.existsSync(dir) ? ` (logs kept in ${dir})` : "";
    throw new Error(`lab '${name}' did not come up: ${(err as Error).message}${kept}`);
  }
  return state;
}

async function removeLab(
  name: string,
  runDir: string,
  extra: string[],
  keepLogs: boolean,
): Promise<DownReport> {
  const report: DownReport = { name, namespaces: [], pids: [], stateDir: null, warnings: [] };
  let state: LabState | null = null;
  try {
    state = readState(name, runDir);
  } catch (err) {
    report.warnings.push((err as Error).message);
  }
  // Only names of this lab, even if the state file was edited by hand.
  const ours = new RegExp(`^${name}-[a-z0-9]+$`);
  const present = new Set(labNamespacesPresent(name));
  const namespaces = [
    ...new Set([...(state?.namespaces ?? []), ...extra, ...present]),
  ].filter((ns) => ours.test(ns) && present.has(ns));
  report.pids = await stopNamespaceProcesses(namespaces);
  for (const ns of namespaces) {
    try {
      deleteNamespace(ns);
      report.namespaces.push(ns);
    } catch (err) {
      report.warnings.push((err as Error).message);
    }
  }
  if (keepLogs) {
    fs.rmSync(stateFile(name, runDir), { force: true });
  } else if (removeStateDir(name, runDir)) {
    report.stateDir = stateDir(name, runDir);
  }
  return report;
}

/**
 * Removes everything of lab `name`: its processes, namespaces (and with them veths and
 * bridges) and state directory. Idempotent, and works without a state file.
 */
export async function labDown(
  name = DEFAULT_LAB_NAME,
  options: { runDir?: string } = {},
): Promise<DownReport> {
  requireRoot();
  checkLabName(name);
  return removeLab(name, options.runDir ?? DEFAULT_RUN_DIR, [], false);
}

function ipv4Addresses(ns: string): string[] {
  try {
    return ip(["-4", "-br", "addr", "show"], ns).split("\n")
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length >= 3 && f[0] !== "lo")
      .map(([dev, , ...addrs]) => `${dev.replace(/@.*$/, "")} ${addrs.join(" ")}`);
  } catch {
    return [];
  }
}

/** What exists of lab `name`, and whether its programs are alive in their namespaces. */
export function labStatus(
  name = DEFAULT_LAB_NAME,
  options: { runDir?: string; topology?: Topology } = {},
): LabStatus {
  requireRoot();
  checkLabName(name);
  const topology = options.topology ?? defaultTopology();
  const warnings: string[] = [];
  let state: LabState | null = null;
  try {
    state = readState(name, options.runDir ?? DEFAULT_RUN_DIR);
  } catch (err) {
    warnings.push((err as Error).message);
  }
  const present = new Set(labNamespacesPresent(name));
  const hosts = [topology.switchHost, ...topology.hosts.map((h) => h.name)].map((host) => {
    const namespace = namespaceName(name, host);
    const here = present.has(namespace);
    return { host, namespace, present: here, addresses: here ? ipv4Addresses(namespace) : [] };
  });
  const processes = (state?.processes ?? []).map((p) => ({
    ...p,
    // A recycled PID elsewhere is not our program: check the namespace too.
    alive: isAlive(p.pid) && namespaceOfPid(p.pid) === p.namespace,
  }));
  if (state && present.size === 0) warnings.push("the state file exists but no namespace does");
  if (!state && present.size > 0) {
    warnings.push(
      "namespaces exist without a state file (crashed run?); 'lvslab down' removes them",
    );
  }
  return { name, up: present.size > 0, state, hosts, processes, warnings };
}

function hostNamespace(name: string, host: string): string {
  checkLabName(name);
  const present = labNamespacesPresent(name);
  const ns = namespaceName(name, host);
  if (!present.includes(ns)) {
    if (present.length === 0) {
      throw new LabNotUpError(`lab '${name}' is not up; run 'lvslab up' first`);
    }
    const hosts = present.map((n) => n.slice(name.length + 1)).sort().join(", ");
    throw new LabNotUpError(`lab '${name}' has no host '${host}'; hosts are: ${hosts}`);
  }
  return ns;
}

/** Commands run in a lab host find the lab's host tools (ipvsadm) first on their PATH. */
function withHostTools(argv: string[]): string[] {
  return ["env", `PATH=${path.join(REPO_ROOT, "bin", "host")}:${process.env.PATH ?? ""}`, ...argv];
}

/** Runs argv in a host's namespace, collecting output (bounded by timeoutMs, default 60 s). */
export async function execIn(
  host: string,
  argv: string[],
  options: { name?: string; timeoutMs?: number; input?: string; cwd?: string } = {},
): Promise<CommandResult> {
  requireRoot();
  if (argv.length === 0) throw new Error("no command given to run");
  const ns = hostNamespace(options.name ?? DEFAULT_LAB_NAME, host);
  return runAsync(netnsExec(ns, withHostTools(argv)), {
    timeoutMs: options.timeoutMs,
    input: options.input,
    cwd: options.cwd ?? REPO_ROOT,
  });
}

/** Runs argv in a host's namespace with this process's stdio; returns its exit code. */
export function execInteractive(
  host: string,
  argv: string[],
  options: { name?: string; cwd?: string } = {},
): number {
  requireRoot();
  if (argv.length === 0) throw new Error("no command given to run");
  const ns = hostNamespace(options.name ?? DEFAULT_LAB_NAME, host);
  const [command, ...args] = netnsExec(ns, withHostTools(argv));
  const r = spawnSync(command, args, {
    stdio: "inherit",
    cwd: options.cwd,
  });
  if (r.error) throw r.error;
  return r.status ?? 128 + (r.signal === "SIGKILL" ? 9 : r.signal === "SIGINT" ? 2 : 15);
}

/** argv that runs one of the repo's TypeScript programs with the node running lvslab. */
export function repoProgram(script: string, args: string[]): string[] {
  return nodeProgram(script, args);
}
