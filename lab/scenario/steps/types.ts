// What a step kind is (StepKindDef) and what it is given: the file around it when the
// scenario is checked (StepCheckContext), and the lab when it runs (StepContext).
import type { z } from "zod";
import type { BackgroundProcess, LabBackend } from "../../backend.ts";
import type { HoldReport } from "../../../clients/tcp-hold.ts";
import type { ProgramSpec, Scenario } from "../schema.ts";
import type { StepKind, StepOutput } from "./index.ts";

/** When a step with an id ran and what it aimed at, to find its packets in the captures. */
export interface StepWindow {
  startedAt: number;
  endedAt: number;
  vip: string;
  vport: number;
  protocol: "tcp" | "udp";
}

/** A scenario program (programs:) and its process while it runs. */
export interface RunningProgram {
  spec: ProgramSpec;
  process: BackgroundProcess | null;
}

/** The rest of the file, as the cross-checks of one step see it. */
export interface StepCheckContext {
  readonly scenario: Omit<Scenario, "file">;
  /** Ids of the scenario's programs. */
  readonly programIds: ReadonlySet<string>;
  /** "tcp 203.0.113.5:80" of every service of the table. */
  readonly services: ReadonlySet<string>;
  /** Virtual addresses of the table. */
  readonly vips: ReadonlySet<string>;
  /** The client's own address and clientAddresses. */
  readonly sources: ReadonlySet<string>;
  /** Ids of the steps before this one (and this one) that leave a result → their kind. */
  readonly stepKinds: ReadonlyMap<string, StepKind>;
  /** Hold steps so far not yet released. */
  readonly openHolds: Set<string>;
}

/** What a step's run function may use: the lab, the time left, and the steps' shared state. */
export interface StepContext {
  readonly backend: LabBackend;
  readonly scenario: Scenario;
  /** The step's place in the file. */
  readonly index: number;
  /** The step's own VIP, or the scenario's. */
  readonly vip: string;
  /** Where program, hold, ftp and table logs go. */
  readonly logDir: string;
  /** The scenario's deadline (ms since the epoch). */
  readonly deadline: number;
  /** Time left before the deadline, as a bound for one command (throws when it is up). */
  budget(wantedMs: number): number;
  /** Runs one of the repo's client programs in the client host; parses its JSON output. */
  client<T>(script: string, args: string[], wantedMs: number): Promise<T>;
  /**
   * Keeps a step's result under its id (nothing without one); with `target`, also the
   * step's time window from its start until now, for the capture.
   */
  note(
    id: string | undefined,
    output: StepOutput,
    target?: { vport: number; protocol: "tcp" | "udp" },
  ): void;
  /** Running hold steps by id. */
  readonly holds: Map<string, { process: BackgroundProcess; log: string }>;
  /** Stops a holder and reads its final report (kept as the hold's result). */
  release(id: string): Promise<HoldReport>;
  /** The scenario's programs by id. */
  readonly programs: ReadonlyMap<string, RunningProgram>;
  startProgram(p: RunningProgram): Promise<void>;
  /** `count` UDP source ports no earlier udp step used; returns the first. */
  takeUdpPorts(count: number): number;
}

/**
 * One step kind: `- <kind>: <value>` in a scenario's steps. S is the step as the run sees it
 * (with its kind), O the result it leaves under its id (never: none).
 */
export interface StepKindDef<S extends { kind: string }, O = never> {
  readonly kind: S["kind"];
  /** One line for people: what the step does. */
  readonly description: string;
  /** The value after the kind, as the file gives it. */
  readonly schema: z.ZodType;
  /** Whether the step leaves a result under its id that assertions can name. */
  readonly leavesResult?: boolean;
  /** Type only: the result the step leaves (O). */
  readonly output?: O;
  /** The step from its validated value; without one, { kind, ...value }. */
  fromYaml?(value: unknown): S;
  /** Problems with the rest of the file (services, programs, ids): one sentence each. */
  check?(step: S, ctx: StepCheckContext, where: string, problems: string[]): void;
  /** Problems of all steps of this kind together, after every step was checked. */
  checkAll?(steps: readonly S[], problems: string[]): void;
  /** Carries the step out; returns one line saying what happened, throws when it cannot. */
  run(step: S, ctx: StepContext): Promise<string>;
}
