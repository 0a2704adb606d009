// The network-namespace backend, this folder's entry module: any topology (lab/topology.ts)
// as namespaces, bridges and veths (build.ts), its programs started and stopped by lab.ts.
// A thin LabBackend over lab.ts, so the scenario runner and every CLI verb drive namespaces
// and Compose containers through the same calls. A new backend: a folder beside this one
// and a line in lab/backends.ts.
import fs from "node:fs";
import path from "node:path";
import type {
  BackendUpOptions,
  BackgroundProcess,
  LabBackend,
  StatusView,
  TeardownReport,
} from "../backend.ts";
import type { CommandResult } from "./command.ts";
import { execIn, execInteractive, isLabUp, labDown, labStatus, labUp, repoProgram } from "./lab.ts";
import { requireRoot } from "../root.ts";
import { checkLabName, defaultTopology, namespaceName, type Topology } from "../topology.ts";
import { labNamespacesPresent } from "./namespaces.ts";
import { spawnInNamespace } from "./processes.ts";
import { REPO_ROOT } from "../paths.ts";

/** How long a stopped program gets between SIGTERM and SIGKILL. */
const STOP_GRACE_MS = 3000;

export class NetnsBackend implements LabBackend {
  readonly kind = "netns" as const;
  readonly label = "network namespaces";
  readonly name: string;
  readonly topology: Topology;

  constructor(name: string, topology: Topology = defaultTopology()) {
    checkLabName(name);
    this.name = name;
    this.topology = topology;
  }

  async up(options: BackendUpOptions = {}): Promise<void> {
    await labUp({
      name: this.name,
      config: options.config,
      director: options.director,
      log: options.log,
      topology: this.topology,
    });
  }

  async down(): Promise<void> {
    await labDown(this.name);
  }

  async teardown(): Promise<TeardownReport> {
    const report = await labDown(this.name);
    const removed: string[] = [];
    if (report.pids.length > 0) removed.push(`stopped processes: ${report.pids.join(", ")}`);
    if (report.namespaces.length > 0) {
      removed.push(`deleted namespaces: ${report.namespaces.join(", ")}`);
    }
    if (report.stateDir) removed.push(`removed ${report.stateDir}`);
    const remaining = labNamespacesPresent(this.name).map((ns) => `namespace ${ns}`);
    return { removed, warnings: report.warnings, remaining };
  }

  status(): Promise<StatusView> {
    const status = labStatus(this.name, { topology: this.topology });
    const s = status.state;
    return Promise.resolve({
      exists: status.up || s !== null,
      up: status.up,
      healthy: status.up && s !== null && status.warnings.length === 0 &&
        status.hosts.every((h) => h.present) && status.processes.every((p) => p.alive),
      detail: s ? `since ${s.createdAt}, config ${s.configPath ?? "(no director)"}` : "",
      topology: s?.topology ?? null,
      hosts: status.hosts.map((h) => ({
        host: h.host,
        where: h.namespace,
        // Present hosts show their addresses; a missing one says so.
        state: h.present ? "" : "MISSING",
        addresses: h.addresses,
      })),
      processes: status.processes.map((p) => ({
        name: p.name,
        pid: p.pid,
        alive: p.alive,
        log: p.log,
      })),
      decapsulation: s?.decapsulation ?? {},
      networks: [],
      warnings: status.warnings,
      raw: status,
    });
  }

  execInteractive(host: string, argv: string[], options: { cwd?: string } = {}): Promise<number> {
    return Promise.resolve(execInteractive(host, argv, { name: this.name, cwd: options.cwd }));
  }

  isUp(): Promise<boolean> {
    requireRoot();
    return Promise.resolve(isLabUp(this.name));
  }

  exec(
    host: string,
    argv: string[],
    options: { timeoutMs?: number; input?: string } = {},
  ): Promise<CommandResult> {
    return execIn(host, argv, { name: this.name, ...options });
  }

  spawn(host: string, argv: string[], logFile: string): Promise<BackgroundProcess> {
    requireRoot();
    if (argv.length === 0) return Promise.reject(new Error("no command given to start"));
    const ns = namespaceName(this.name, host);
    if (!labNamespacesPresent(this.name).includes(ns)) {
      return Promise.reject(new Error(`lab '${this.name}' has no host '${host}' (is it up?)`));
    }
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    const proc = spawnInNamespace({
      namespace: ns,
      argv,
      cwd: REPO_ROOT,
      logFile,
      // The lab's host tools (ipvsadm) first on PATH, as execIn does.
      env: { ...process.env, PATH: `${path.join(REPO_ROOT, "bin", "host")}:${process.env.PATH}` },
    });
    return Promise.resolve({ stop: () => proc.stop(STOP_GRACE_MS), exited: proc.exited });
  }

  copyOut(host: string, remotePath: string, localPath: string): Promise<void> {
    // Namespaces share this machine's file system: the "copy" is a plain one (or nothing).
    void host;
    if (path.resolve(remotePath) !== path.resolve(localPath)) {
      fs.mkdirSync(path.dirname(localPath), { recursive: true });
      fs.copyFileSync(remotePath, localPath);
    }
    return Promise.resolve();
  }

  program(script: string, args: string[]): string[] {
    return repoProgram(script, args);
  }
}
