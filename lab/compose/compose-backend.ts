// The Docker Compose backend, this folder's entry module: any topology (lab/topology.ts) as
// containers of project <name>, from a Compose file generated for it (generate.ts; for the
// default topology it equals compose.yaml) and written to the lab's state directory. The
// Compose CLI builds the image and brings the project up and down; everything else (exec,
// background programs, logs, status, copies out) goes through the Docker API with
// dockerode. Hosts are found by Compose's labels, so Compose v1 and v2 (which name
// containers differently) look the same here. A new backend: a folder beside this one and
// a line in lab/backends.ts.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import Docker from "dockerode";
import type {
  BackendUpOptions,
  BackgroundProcess,
  LabBackend,
  StatusView,
  TeardownReport,
} from "../backend.ts";
import type { CommandResult } from "../netns/command.ts";
import { assertSoundTopology, checkLabName, defaultTopology, type Topology } from "../topology.ts";
import { defaultConfigPath, REPO_ROOT, userPath } from "../paths.ts";
import { DEFAULT_RUN_DIR } from "../state.ts";
import { directorHost, readyLines } from "../programs.ts";
import { composeFileText, TOPOLOGY_LABEL } from "./generate.ts";
import { TOPOLOGIES, topologyNamed } from "../topologies/index.ts";
import { loadDirectorConfig } from "../../director/config/service-config.ts";
import { findCompose, runCompose, tail } from "./compose-cli.ts";
import { demuxBuffer, execBackground, execCollect } from "./docker-exec.ts";
import { extractFirstFile } from "./tar-extract.ts";

/** Where compose.yaml mounts the repository inside every container. */
export const CONTAINER_REPO = "/lvslab";
/** The base image scripts/docker-base-image.sh builds for machines without a registry. */
export const LOCAL_BASE_IMAGE = "lvslab-base:local";
const PROJECT_LABEL = "com.docker.compose.project";
const SERVICE_LABEL = "com.docker.compose.service";

export interface ComposeContainerStatus {
  host: string;
  container: string;
  /** Docker's state: "running", "exited", ... */
  state: string;
  /** Docker's human status, e.g. "Up 3 minutes". */
  status: string;
  /** "network address" per attachment. */
  addresses: string[];
}

export interface ComposeStatus {
  name: string;
  up: boolean;
  compose: string;
  /** The topology its containers are labelled with (TOPOLOGY_LABEL), if any. */
  topology: string | null;
  containers: ComposeContainerStatus[];
  networks: string[];
  volumes: string[];
  warnings: string[];
}

export interface ComposeDownReport {
  name: string;
  /** What the sweep after `compose down` still found and removed. */
  leftovers: string[];
  /** What still exists after the sweep (empty when the teardown is complete). */
  remaining: string[];
  warnings: string[];
}

export interface ComposeUpOptions extends BackendUpOptions {
  /** Longest wait for the image build (an official base image may need a download). */
  buildTimeoutMs?: number;
  /** Longest wait for the programs' ready lines. */
  readyTimeoutMs?: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class ComposeBackend implements LabBackend {
  readonly kind = "compose" as const;
  readonly label = "Docker Compose";
  readonly name: string;
  readonly topology: Topology;
  private readonly docker = new Docker();
  private readonly hosts: string[];
  /** The generated Compose file, in a directory of its own under the run directory. */
  readonly composeFile: string;

  constructor(name: string, topology: Topology = defaultTopology(), runDir = DEFAULT_RUN_DIR) {
    checkLabName(name);
    this.name = name;
    this.topology = topology;
    this.hosts = topology.hosts.map((h) => h.name);
    // A dash no lab name has: never the state directory of a netns lab of the same name.
    this.composeFile = path.join(runDir, `compose-${name}`, "compose.yaml");
  }

  /** Writes the project's Compose file (the director's program only when it runs). */
  private writeComposeFile(director: boolean): void {
    fs.mkdirSync(path.dirname(this.composeFile), { recursive: true });
    const text = composeFileText(this.topology, {
      root: REPO_ROOT,
      director,
      project: this.name,
    });
    fs.writeFileSync(this.composeFile, text);
  }

  /** `compose -f <the generated file> -p <name> ...`, the file's variables set. */
  private async compose(args: string[], timeoutMs: number, config?: string) {
    return await runCompose(this.name, args, {
      env: await this.composeEnv(config),
      timeoutMs,
      file: this.composeFile,
    });
  }

  private projectFilter(extra: string[] = []): { label: string[] } {
    return { label: [`${PROJECT_LABEL}=${this.name}`, ...extra] };
  }

  /** Throws the sentence users see when no engine answers. */
  async requireEngine(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (err) {
      throw new Error(
        `no Docker engine answers (${(err as Error).message}); start one with ` +
          "'sudo scripts/docker-start.sh' (docker/README.md)",
      );
    }
  }

  private async containers(all = true): Promise<Docker.ContainerInfo[]> {
    return await this.docker.listContainers({ all, filters: this.projectFilter() });
  }

  /** The running container that realises `host`; throws a sentence when there is none. */
  private async container(host: string): Promise<Docker.Container> {
    const list = await this.docker.listContainers({
      filters: this.projectFilter([`${SERVICE_LABEL}=${host}`]),
    });
    if (list.length === 0) {
      const running = (await this.containers(false)).map((c) => c.Labels[SERVICE_LABEL]);
      if (running.length === 0) {
        throw new Error(
          `lab '${this.name}' is not up on Docker Compose; run 'lvslab up --backend compose' first`,
        );
      }
      throw new Error(
        `lab '${this.name}' has no running host '${host}'; hosts are: ${running.sort().join(", ")}`,
      );
    }
    return this.docker.getContainer(list[0].Id);
  }

  /** BASE_IMAGE from the environment, else the local base image when built, else none. */
  private async baseImage(): Promise<string | undefined> {
    if (process.env.BASE_IMAGE) return process.env.BASE_IMAGE;
    try {
      await this.docker.getImage(LOCAL_BASE_IMAGE).inspect();
      return LOCAL_BASE_IMAGE;
    } catch {
      return undefined;
    }
  }

  /** compose.yaml's variables: the base image and the director's service table. */
  private async composeEnv(config?: string): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    const base = await this.baseImage();
    if (base) env.BASE_IMAGE = base;
    if (config) {
      env.LVSLAB_CONFIG_DIR = path.dirname(config);
      env.LVSLAB_CONFIG = path.basename(config);
    }
    return env;
  }

  async up(options: ComposeUpOptions = {}): Promise<void> {
    assertSoundTopology(this.topology);
    const log = options.log ?? (() => {});
    const withDirector = options.director !== false && directorHost(this.topology) !== null;
    const configPath = options.config ? userPath(options.config) : defaultConfigPath(this.topology);
    if (!fs.existsSync(configPath)) {
      throw new Error(`service config ${configPath} does not exist; pass --config <file>`);
    }
    // A bad table should fail before anything is built.
    if (withDirector) loadDirectorConfig(configPath);
    await this.requireEngine();
    const cli = findCompose();
    if ((await this.containers()).length > 0) {
      throw new Error(
        `lab '${this.name}' is already up on Docker Compose; run 'lvslab down --backend compose' first`,
      );
    }
    if (!fs.existsSync(path.join(REPO_ROOT, "node_modules", "tsx"))) {
      throw new Error("the repository's npm packages are missing: run 'npm ci' (./lvslab does)");
    }
    const env = await this.composeEnv(configPath);
    const base = env.BASE_IMAGE ?? "compose.yaml's default (an official Node image)";
    try {
      this.writeComposeFile(withDirector);
      log(`building the lab image on ${base} (${cli.version})`);
      // One build: every service shares the image lvslab-host.
      const build = await this.compose(
        ["build", this.hosts[0]],
        options.buildTimeoutMs ?? 600_000,
        configPath,
      );
      if (build.code !== 0) {
        throw new Error(
          `the lab image did not build on ${base}:\n${tail(build.stdout + build.stderr)}\n` +
            `where no image registry is reachable, build the base image with ` +
            `'sudo scripts/docker-base-image.sh' first`,
        );
      }
      // Older builds of the image, left untagged by this one.
      await this.docker.pruneImages({
        filters: { dangling: ["true"], label: ["lvslab.image=host"] },
      }).catch(() => {});
      log(`starting project '${this.name}' (${this.hosts.join(", ")}) from ${this.composeFile}`);
      const up = await this.compose(["up", "-d", "--no-build"], 180_000, configPath);
      if (up.code !== 0) {
        throw new Error(`compose up failed:\n${tail(up.stdout + up.stderr)}`);
      }
      await this.waitReady(withDirector, options.readyTimeoutMs ?? 30_000, log);
      if (withDirector) await this.probeVip(log);
    } catch (err) {
      await this.down().catch(() => {});
      throw new Error(`lab '${this.name}' did not come up: ${(err as Error).message}`);
    }
    log(`lab '${this.name}' is up on Docker Compose`);
  }

  /** Waits until every host runs and its programs printed their ready lines (bounded). */
  private async waitReady(
    withDirector: boolean,
    timeoutMs: number,
    log: (line: string) => void,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const ready = readyLines(this.topology, withDirector);
    const waiting = new Set(this.hosts);
    while (waiting.size > 0) {
      for (const host of [...waiting]) {
        const list = await this.docker.listContainers({
          all: true,
          filters: this.projectFilter([`${SERVICE_LABEL}=${host}`]),
        });
        if (list.length === 0) throw new Error(`no container for host '${host}' was created`);
        const output = await this.logs(host);
        const lines = ready[host] ?? [];
        if (list[0].State === "running" && lines.every((text) => output.includes(text))) {
          waiting.delete(host);
          log(`${host} is ready`);
        } else if (list[0].State !== "running") {
          throw new Error(
            `host '${host}' stopped (${list[0].Status}); its output:\n${tail(output)}`,
          );
        }
      }
      if (waiting.size === 0) break;
      if (Date.now() > deadline) {
        const outputs = await Promise.all(
          [...waiting].map(async (h) => `--- ${h}:\n${tail(await this.logs(h), 8)}`),
        );
        throw new Error(
          `not ready after ${timeoutMs} ms: ${[...waiting].join(", ")}\n${outputs.join("\n")}`,
        );
      }
      await sleep(300);
    }
  }

  /**
   * Pings the VIP from the client: the director answers echo requests itself, so this
   * checks the path without a connection the scenarios would count.
   */
  private async probeVip(log: (line: string) => void): Promise<void> {
    const vip = this.topology.vip;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const r = await this.exec("client", ["ping", "-c", "1", "-W", "2", vip], {
        timeoutMs: 5000,
      });
      if (r.code === 0) {
        log(`the client reaches the VIP ${vip}`);
        return;
      }
    }
    throw new Error(
      `the client cannot reach the VIP ${vip} through the director. Where the kernel filters ` +
        "bridged packets with iptables (net.bridge.bridge-nf-call-iptables=1), Docker's rules " +
        "for internal networks drop them: run the engine with 'sudo scripts/docker-start.sh' " +
        "(its own network namespace), see docker/README.md",
    );
  }

  /** `compose down`, then removes whatever of the project is left; idempotent. */
  async down(): Promise<void> {
    await this.downReport();
  }

  async teardown(): Promise<TeardownReport> {
    await this.requireEngine();
    const before = await this.resources();
    const report = await this.downReport();
    return {
      removed: [
        ...(before.length > 0 ? [`removed ${before.join(", ")}`] : []),
        ...(report.leftovers.length > 0
          ? [`(of which compose down left ${report.leftovers.join(", ")})`]
          : []),
      ],
      warnings: report.warnings,
      remaining: report.remaining,
    };
  }

  async downReport(): Promise<ComposeDownReport> {
    await this.requireEngine();
    const report: ComposeDownReport = {
      name: this.name,
      leftovers: [],
      remaining: [],
      warnings: [],
    };
    try {
      // After a crash or from another process the file may be gone: write it again.
      if (!fs.existsSync(this.composeFile)) this.writeComposeFile(true);
      const r = await this.compose(["down", "-v", "--remove-orphans", "--timeout", "5"], 120_000);
      if (r.code !== 0) report.warnings.push(`compose down: ${tail(r.stderr || r.stdout, 4)}`);
    } catch (err) {
      report.warnings.push(`compose down: ${(err as Error).message}`);
    }
    // The sweep: by the project label, whatever Compose left (a crashed up, an edited file).
    for (const c of await this.containers()) {
      await this.docker.getContainer(c.Id).remove({ force: true, v: true }).catch((err) =>
        report.warnings.push(`container ${c.Names[0]}: ${(err as Error).message}`)
      );
      report.leftovers.push(`container ${c.Names[0]?.replace(/^\//, "") ?? c.Id}`);
    }
    for (const n of await this.docker.listNetworks({ filters: this.projectFilter() })) {
      await this.docker.getNetwork(n.Id).remove().catch((err) =>
        report.warnings.push(`network ${n.Name}: ${(err as Error).message}`)
      );
      report.leftovers.push(`network ${n.Name}`);
    }
    const volumes = await this.docker.listVolumes({ filters: this.projectFilter() });
    for (const v of volumes.Volumes ?? []) {
      await this.docker.getVolume(v.Name).remove().catch((err) =>
        report.warnings.push(`volume ${v.Name}: ${(err as Error).message}`)
      );
      report.leftovers.push(`volume ${v.Name}`);
    }
    report.remaining = await this.resources();
    if (report.remaining.length === 0) {
      fs.rmSync(path.dirname(this.composeFile), { recursive: true, force: true });
    }
    return report;
  }

  /** Every container, network and volume carrying the project's label, as "kind name". */
  async resources(): Promise<string[]> {
    const filters = this.projectFilter();
    const containers = await this.docker.listContainers({ all: true, filters });
    const networks = await this.docker.listNetworks({ filters });
    const volumes = (await this.docker.listVolumes({ filters })).Volumes ?? [];
    return [
      ...containers.map((c) => `container ${c.Names[0]?.replace(/^\//, "") ?? c.Id}`),
      ...networks.map((n) => `network ${n.Name}`),
      ...volumes.map((v) => `volume ${v.Name}`),
    ];
  }

  async isUp(): Promise<boolean> {
    await this.requireEngine();
    return (await this.containers(false)).length > 0;
  }

  async status(): Promise<StatusView> {
    const status = await this.composeStatus();
    return {
      decapsulation: await this.decapsulation(status),
      exists: status.containers.length > 0,
      up: status.up,
      healthy: status.up && status.warnings.length === 0,
      detail: `(${status.compose})`,
      topology: status.topology,
      hosts: status.containers.map((c) => ({
        host: c.host,
        where: c.container,
        state: c.state,
        addresses: c.addresses,
      })),
      processes: null,
      networks: [...status.networks, ...status.volumes.map((v) => `volume ${v}`)],
      warnings: status.warnings,
      raw: status,
    };
  }

  /** Containers, networks and volumes of the project, with each host's addresses. */
  async composeStatus(): Promise<ComposeStatus> {
    await this.requireEngine();
    let compose = "(no compose command)";
    try {
      compose = findCompose().version;
    } catch {
      // Status still works through the API.
    }
    const listed = await this.containers();
    const topology = listed.map((c) => c.Labels[TOPOLOGY_LABEL]).find(Boolean) ?? null;
    const containers = listed.map((c) => ({
      host: c.Labels[SERVICE_LABEL] ?? "?",
      container: c.Names[0]?.replace(/^\//, "") ?? c.Id.slice(0, 12),
      state: c.State,
      status: c.Status,
      addresses: Object.entries(c.NetworkSettings?.Networks ?? {}).map(([net, s]) =>
        `${net.replace(`${this.name}_`, "")} ${s.IPAddress}`
      ),
    })).sort((a, b) => a.host.localeCompare(b.host));
    const networks = (await this.docker.listNetworks({ filters: this.projectFilter() }))
      .map((n) => n.Name).sort();
    const volumes = ((await this.docker.listVolumes({ filters: this.projectFilter() })).Volumes ??
      []).map((v) => v.Name);
    const warnings: string[] = [];
    // The hosts of the topology the project was made from, whatever this backend assumed.
    const hosts = topology !== null && topology !== this.topology.name &&
        Object.hasOwn(TOPOLOGIES, topology)
      ? topologyNamed(topology).hosts.map((h) => h.name)
      : this.hosts;
    for (const host of hosts) {
      const c = containers.find((x) => x.host === host);
      if (containers.length > 0 && !c) warnings.push(`host '${host}' has no container`);
      else if (c && c.state !== "running") warnings.push(`host '${host}' is ${c.state}`);
    }
    const up = containers.some((c) => c.state === "running");
    return { name: this.name, up, compose, topology, containers, networks, volumes, warnings };
  }

  /**
   * What each running VS/TUN real server chose (docker/entrypoints/realserver.sh prints
   * "decapsulation: <summary>" before it starts the decapsulator).
   */
  private async decapsulation(status: ComposeStatus): Promise<Record<string, string>> {
    const recorded = status.topology;
    const topology = recorded !== null && Object.hasOwn(TOPOLOGIES, recorded)
      ? topologyNamed(recorded)
      : this.topology;
    const found: Record<string, string> = {};
    for (const host of topology.hosts.filter((h) => h.tunnel)) {
      if (!status.containers.some((c) => c.host === host.name)) continue;
      const line = /^lvslab-realserver: decapsulation: (.*)$/m.exec(await this.logs(host.name));
      found[host.name] = line?.[1] ?? "(not said yet)";
    }
    return found;
  }

  /** A host's output since it started (stdout and stderr interleaved by stream). */
  async logs(host: string, options: { tail?: number } = {}): Promise<string> {
    const list = await this.docker.listContainers({
      all: true,
      filters: this.projectFilter([`${SERVICE_LABEL}=${host}`]),
    });
    if (list.length === 0) throw new Error(`lab '${this.name}' has no host '${host}'`);
    const buf = await this.docker.getContainer(list[0].Id).logs({
      stdout: true,
      stderr: true,
      follow: false,
      ...(options.tail === undefined ? {} : { tail: options.tail }),
    });
    const { stdout, stderr } = demuxBuffer(buf);
    return stdout + stderr;
  }

  async exec(
    host: string,
    argv: string[],
    options: { timeoutMs?: number; input?: string } = {},
  ): Promise<CommandResult> {
    if (argv.length === 0) throw new Error("no command given to run");
    return execCollect(this.docker, await this.container(host), argv, options);
  }

  async spawn(host: string, argv: string[], logFile: string): Promise<BackgroundProcess> {
    if (argv.length === 0) throw new Error("no command given to start");
    return execBackground(this.docker, await this.container(host), argv, logFile);
  }

  /** Copies one file out of a host through the Docker API (GET .../archive). */
  async copyOut(host: string, remotePath: string, localPath: string): Promise<void> {
    const container = await this.container(host);
    let archive: NodeJS.ReadableStream;
    try {
      archive = await container.getArchive({ path: remotePath });
    } catch (err) {
      throw new Error(`cannot copy ${remotePath} out of ${host}: ${(err as Error).message}`);
    }
    await extractFirstFile(archive as unknown as import("node:stream").Readable, localPath);
  }

  /**
   * argv running one of the repo's TypeScript programs in a host, where the repository is
   * mounted at /lvslab: arguments naming files of the repository are mapped there too.
   */
  program(script: string, args: string[]): string[] {
    const inRepo = (p: string) =>
      p === REPO_ROOT || p.startsWith(`${REPO_ROOT}/`)
        ? CONTAINER_REPO + p.slice(REPO_ROOT.length)
        : p;
    const target = path.isAbsolute(script)
      ? inRepo(script)
      : path.posix.join(CONTAINER_REPO, script);
    return ["node", "--import", "tsx", target, ...args.map(inRepo)];
  }

  /**
   * Runs argv in a host with this process's stdin, stdout and stderr (the CLI's `exec` and
   * `ipvsadm`), through the docker client, which handles terminals; returns the exit code.
   */
  async execInteractive(host: string, argv: string[]): Promise<number> {
    // The repository is at /lvslab in every container: the user's directory is not there.
    if (argv.length === 0) throw new Error("no command given to run");
    const container = await this.container(host);
    const tty = process.stdin.isTTY && process.stdout.isTTY;
    const r = spawnSync("docker", ["exec", "-i", ...(tty ? ["-t"] : []), container.id, ...argv], {
      stdio: "inherit",
    });
    if (r.error) throw new Error(`docker exec: ${r.error.message}`);
    return r.status ?? 128 + 9;
  }
}

/** The Compose backend for lab `name` (the Compose project name) realising `topology`. */
export function createComposeBackend(name: string, topology?: Topology): LabBackend {
  return new ComposeBackend(name, topology);
}
