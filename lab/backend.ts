// What a lab backend offers the scenario runner, the CLI and the tests, whatever realises the
// hosts: network namespaces (lab/netns) or Docker Compose containers (lab/compose). Hosts
// are named as in lab/topology.ts: "client", "director", "rs1", "rs2".
import type { CommandResult } from "./netns/command.ts";

export type BackendKind = "netns" | "compose";

export interface BackendUpOptions {
  /** Director service table (YAML, lab/default-services.yaml when absent). */
  config?: string;
  /** Progress lines. */
  log?: (line: string) => void;
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
  up(options?: BackendUpOptions): Promise<void>;
  /** Removes everything the lab made; idempotent. */
  down(): Promise<void>;
  isUp(): Promise<boolean>;
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
