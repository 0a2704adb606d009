// The lab's programmatic API: bring a lab up or down, ask its status, run commands on its
// hosts. The CLI verbs and the lab tests are thin layers over these functions.
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { type CommandResult, ip, netnsExec, runAsync } from "./command.ts";
import { buildTopology, type BuiltNetwork } from "./build.ts";
import {
  deleteNamespace,
  isAlive,
  labNamespacesPresent,
  namespaceOfPid,
  stopNamespaceProcesses,
} from "./namespaces.ts";
import { startInNamespace } from "./processes.ts";
import {
  assertSoundTopology,
  checkLabName,
  DEFAULT_LAB_NAME,
  defaultTopology,
  directorLanInterface,
  type Host,
  namespaceName,
  type Topology,
} from "../topology.ts";
import { directorHost, hostPrograms, PROGRAM_KINDS, type ProgramKind } from "../programs.ts";
import { TOPOLOGIES, topologyNamed } from "../topologies/index.ts";
import {
  DEFAULT_RUN_DIR,
  type LabProcess,
  type LabState,
  readState,
  removeStateDir,
  stateDir,
  stateFile,
  writeState,
} from "../state.ts";
import { defaultConfigPath, REPO_ROOT, userPath } from "../paths.ts";
import { loadDirectorConfig } from "../../director/config/service-config.ts";
import { findVsftpd } from "../../realservers/vsftpd.ts";
import { requireRoot } from "../root.ts";
import {
  chooseDecapsulation,
  decapArgs,
  type Decapsulation,
  KERNEL_DECAP_SCRIPT,
  kernelDecapArgs,
} from "../decapsulation.ts";

export interface LabUpOptions {
  /** Lab name, the prefix of every namespace (default "lvslab"). */
  name?: string;
  /**
   * Director service table (default: the topology's, lab/default-services.yaml for the
   * article's lab); relative to the user's cwd.
   */
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

export class LabAlreadyUpError extends Error {}
export class LabNotUpError extends Error {}

/** True when anything of the lab exists (a namespace or a state file). */
export function isLabUp(name = DEFAULT_LAB_NAME, runDir = DEFAULT_RUN_DIR): boolean {
  checkLabName(name);
  return labNamespacesPresent(name).length > 0 || fs.existsSync(stateFile(name, runDir));
}

function nodeProgram(script: string, args: string[]): string[] {
  // process.execPath: sudo's PATH may not hold the node that runs lvslab.
  return [process.execPath, "--import", "tsx", path.join(REPO_ROOT, script), ...args];
}

/** What a host program's command line may depend on. */
interface ProgramContext {
  dir: string;
  configPath: string;
  topology: Topology;
  extra: string[];
  /** Each VS/TUN real server's decapsulation, chosen once at `up`. */
  decapsulation: Record<string, Decapsulation>;
}

/** argv of one kind of host program in a namespace lab (lab/programs.ts names the kinds). */
const NETNS_PROGRAMS: Record<
  ProgramKind,
  (host: Host, ctx: ProgramContext) => { name: string; argv: string[] }
> = {
  director: (_host, ctx) => {
    // No LAN shared with the real servers (VS/TUN): no replies to route back, no --private-dev.
    const lan = directorLanInterface(ctx.topology);
    return {
      name: "director",
      argv: nodeProgram("director/main.ts", [
        "--config",
        ctx.configPath,
        ...(lan ? ["--private-dev", lan.name] : []),
        ...ctx.extra,
      ]),
    };
  },
  http: (host) => ({
    name: `${host.name}-http`,
    argv: nodeProgram("realservers/http-server.ts", [
      "--name",
      host.http!.name,
      ...host.http!.listen.flatMap((l) => ["--listen", l]),
    ]),
  }),
  ftp: (host, ctx) => ({
    name: `${host.name}-ftp`,
    argv: nodeProgram("realservers/ftp-server.ts", [
      "--name",
      host.name,
      "--listen",
      host.ftp!.listen,
      "--root",
      path.join(ctx.dir, `${host.name}-ftp`),
      ...(host.ftp!.pasvAddress ? ["--pasv-address", host.ftp!.pasvAddress] : []),
    ]),
  }),
  decap: (host, ctx) => ({
    name: `${host.name}-decap`,
    argv: ctx.decapsulation[host.name].mode === "kernel"
      ? ["sh", path.join(REPO_ROOT, KERNEL_DECAP_SCRIPT), ...kernelDecapArgs(host.tunnel!)]
      : nodeProgram("realservers/tunnel-decap.ts", [
        ...decapArgs(host.tunnel!, decapStatsFile(ctx.dir, host.name)),
      ]),
  }),
};

/** Where a namespace lab's lvslab-decap writes its counters (every second). */
export function decapStatsFile(dir: string, host: string): string {
  return path.join(dir, `${host}-decap.json`);
}

/** Each VS/TUN real server's decapsulation on this kernel. */
function decapsulations(topology: Topology): Record<string, Decapsulation> {
  return Object.fromEntries(
    topology.hosts.filter((h) => h.tunnel).map((h) => [h.name, chooseDecapsulation(h.tunnel!)]),
  );
}

/** Checks what `up` needs before it builds anything; returns the director's table or null. */
function checkUp(options: LabUpOptions, name: string, topology: Topology): string | null {
  checkLabName(name);
  assertSoundTopology(topology);
  const configPath = options.config ? userPath(options.config) : defaultConfigPath(topology);
  if (!fs.existsSync(configPath)) {
    throw new Error(`service config ${configPath} does not exist; pass --config <file>`);
  }
  const withDirector = (options.director ?? true) && directorHost(topology) !== null;
  // Validate now: a bad table should fail before anything is built.
  if (withDirector) loadDirectorConfig(configPath);
  return withDirector ? configPath : null;
}

/** Builds the lab, starts its programs, writes the state file; returns the state. */
export async function labUp(options: LabUpOptions = {}): Promise<LabState> {
  requireRoot();
  const name = options.name ?? DEFAULT_LAB_NAME;
  const runDir = options.runDir ?? DEFAULT_RUN_DIR;
  const topology = options.topology ?? defaultTopology();
  const log = options.log ?? (() => {});
  const configPath = checkUp(options, name, topology);
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
    configPath,
    topology: topology.name,
    ...built,
    processes: [],
  };
  try {
    log(
      `building lab '${name}': ${topology.hosts.length} hosts, ${topology.networks.length} networks`,
    );
    // The state file exists from the first namespace on, so a crash leaves a trace.
    const decapsulation = decapsulations(topology);
    if (Object.keys(decapsulation).length > 0) {
      state.decapsulation = Object.fromEntries(
        Object.entries(decapsulation).map(([h, d]) => [h, d.summary]),
      );
      for (const [h, d] of Object.entries(decapsulation)) log(`${h} decapsulation: ${d.summary}`);
    }
    writeState(state, runDir);
    buildTopology(name, topology, built);
    Object.assign(state, built);
    writeState(state, runDir);
    await startPrograms(topology, state, {
      dir,
      runDir,
      configPath,
      extra: options.directorArgs ?? [],
      decapsulation,
      // As Compose's: a loaded machine takes a director 10 s and more to start.
      readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
      log,
    });
  } catch (err) {
    // Remove what was made but keep the logs for the post-mortem.
    await removeLab(name, runDir, built.namespaces, true).catch(() => {});
    const kept = fs.existsSync(dir) ? ` (logs kept in ${dir})` : "";
    throw new Error(`lab '${name}' did not come up: ${(err as Error).message}${kept}`);
  }
  return state;
}

/** Starts every host's programs at once, each recorded in the state once it is ready. */
async function startPrograms(
  topology: Topology,
  state: LabState,
  opts: {
    dir: string;
    runDir: string;
    configPath: string | null;
    extra: string[];
    decapsulation: Record<string, Decapsulation>;
    readyTimeoutMs: number;
    log: (line: string) => void;
  },
): Promise<void> {
  const start = async (host: Host, kind: ProgramKind) => {
    const ctx = { ...opts, configPath: opts.configPath ?? "", topology };
    const p = NETNS_PROGRAMS[kind](host, ctx);
    const namespace = namespaceName(state.name, host.name);
    const logFile = path.join(opts.dir, `${p.name}.log`);
    const pid = await startInNamespace({
      namespace,
      argv: p.argv,
      cwd: REPO_ROOT,
      logFile,
      readyText: PROGRAM_KINDS[kind].ready,
      readyTimeoutMs: opts.readyTimeoutMs,
      what: kind === "director" ? "the director" : `the ${p.name} program`,
    });
    state.processes.push({ ...p, host: host.name, pid, namespace, log: logFile });
    writeState(state, opts.runDir);
    opts.log(`started ${p.name} in ${namespace} (pid ${pid})`);
  };
  // FTP servers need vsftpd: without it the lab still comes up, and says so.
  const noFtp = topology.hosts.some((h) => h.ftp) && findVsftpd() === null;
  if (noFtp) opts.log("vsftpd is not installed: no FTP server runs (apt-get install vsftpd)");
  const starts = topology.hosts.flatMap((host) =>
    hostPrograms(host, opts.configPath !== null)
      .filter((kind) => !(kind === "ftp" && noFtp))
      .map((kind) => start(host, kind))
  );
  const results = await Promise.allSettled(starts);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
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
  const warnings: string[] = [];
  let state: LabState | null = null;
  try {
    state = readState(name, options.runDir ?? DEFAULT_RUN_DIR);
  } catch (err) {
    warnings.push((err as Error).message);
  }
  // The hosts of the topology the lab was built with, whatever the caller assumed.
  const recorded = state?.topology;
  const topology = recorded !== undefined && recorded !== options.topology?.name &&
      Object.hasOwn(TOPOLOGIES, recorded)
    ? topologyNamed(recorded)
    : options.topology ?? defaultTopology();
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
