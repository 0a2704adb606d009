// lab/: the lab around the director. Start here (the backend interface), then lab/backends.ts (the
// registry), lab/topology.ts (the model) and lab/topologies/ (the shapes).
//
// What a lab backend offers the scenario runner, the CLI and the tests, whatever realises the
// hosts: network namespaces (lab/netns) or Docker Compose containers (lab/compose). Hosts
// are named as in the lab's topology (lab/topology.ts; the default lab's are "client",
// "director", "rs1", "rs2"). A new backend: lab/backends.ts.
import type { CommandResult } from "./netns/command.ts";

export type BackendKind = "netns" | "compose";

export interface BackendUpOptions {
  /** Director service table (YAML; when absent the topology's, see lab/paths.ts). */
  config?: string;
  /** Start the director (default true; a backend that always has one refuses false). */
  director?: boolean;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** What `down` did, in words a user reads, and what it could not remove. */
export interface TeardownReport {
  /** "stopped processes: 12, 13", "deleted namespaces: ...", "removed /run/lvslab/x". */
  removed: string[];
  warnings: string[];
  /** What is still there after the teardown (empty: fully down). */
  remaining: string[];
}

/** A lab's status in one shape for every backend (what `lvslab status` prints). */
export interface StatusView {
  /** Anything of the lab exists (a host, a state file, a container). */
  exists: boolean;
  /** Its hosts are there. */
  up: boolean;
  /** Up, every host present, every program alive, no warning. */
  healthy: boolean;
  /** What follows "up" in the headline: since when, with which table, which Compose. */
  detail: string;
  /** The topology the lab was built with (lab/topologies/), when the lab records it. */
  topology: string | null;
  /** A host per line: its name, where it lives (namespace, container), its addresses. */
  hosts: { host: string; where: string; state: string; addresses: string[] }[];
  // state: "" for a host that is simply there, else what is wrong or what Docker says.
  /** Host → how it decapsulates VS/TUN packets (lab/decapsulation.ts), where known. */
  decapsulation: Record<string, string>;
  /** The lab's own programs; null where the backend does not track them one by one. */
  processes: { name: string; pid: number; alive: boolean; log: string }[] | null;
  networks: string[];
  warnings: string[];
  /** The backend's own full status, for --json. */
  raw: unknown;
}

/** A program left running in a lab host (a load generator, tcpdump, a server). */
export interface BackgroundProcess {
  /** Stops it (SIGTERM, then SIGKILL after a grace period); resolves once it has exited. */
  stop(): Promise<void>;
  /** Resolves with the exit code once the program ends by itself or is stopped. */
  readonly exited: Promise<number>;
}

/** One capture point: a network segment as seen from one interface of one host. */
export interface CaptureSegment {
  /** "public", "private" or "tun". */
  segment: string;
  host: string;
  device: string;
}

export interface LabBackend {
  readonly kind: BackendKind;
  /** The lab's name (netns prefix or Compose project name). */
  readonly name: string;
  /** What realises the hosts, for sentences: "network namespaces", "Docker Compose". */
  readonly label: string;
  up(options?: BackendUpOptions): Promise<void>;
  /** Removes everything the lab made; idempotent. */
  down(): Promise<void>;
  /** down, saying what it removed and what is left. */
  teardown(): Promise<TeardownReport>;
  isUp(): Promise<boolean>;
  status(): Promise<StatusView>;
  /** Runs argv in a host with this process's stdio (a user at a terminal); the exit code. */
  execInteractive(host: string, argv: string[], options?: { cwd?: string }): Promise<number>;
  /** Runs argv in a host and collects its output (bounded by timeoutMs, default 60 s). */
  exec(
    host: string,
    argv: string[],
    options?: { timeoutMs?: number; input?: string },
  ): Promise<CommandResult>;
  /** Starts argv in a host in the background, its output going to logFile on this machine. */
  spawn(host: string, argv: string[], logFile: string): Promise<BackgroundProcess>;
  /** Copies a file out of a host into a local path (a no-op copy for netns). */
  copyOut(host: string, remotePath: string, localPath: string): Promise<void>;
  /** argv prefix that runs one of the repo's TypeScript programs inside a host. */
  program(script: string, args: string[]): string[];
}
