// Scenario step kinds: one file per kind (`- <kind>: ...` in a scenario's steps), each
// exporting its schema, its cross-checks, its run function and a one-line description, and
// ONE table below listing them. The step list, the Step and StepOutput types, the schemas the
// file is parsed with and the kinds that leave a result all come from the table.
//
// To add a step kind: write <kind>.ts here exporting a StepKindDef (types.ts; hold.ts and
// wait.ts are small examples), add one line to STEP_TABLE, and document it in the steps
// table of scenarios/README.md (a unit test checks that every kind is there).
import type { z } from "zod";
import { arpStep } from "./arp.ts";
import { ftpStep } from "./ftp.ts";
import { holdStep } from "./hold.ts";
import { httpStep } from "./http.ts";
import { ipvsadmStep } from "./ipvsadm.ts";
import { pathStep } from "./path.ts";
import { probeStep } from "./probe.ts";
import { releaseStep } from "./release.ts";
import { startStep } from "./start.ts";
import { stopStep } from "./stop.ts";
import { tableStep } from "./table.ts";
import type { StepKindDef } from "./types.ts";
import { udpStep } from "./udp.ts";
import { waitStep } from "./wait.ts";

/** THE table: every step kind, in the order messages list them. */
export const STEP_TABLE = [
  httpStep,
  udpStep,
  probeStep,
  holdStep,
  ftpStep,
  releaseStep,
  ipvsadmStep,
  stopStep,
  startStep,
  waitStep,
  tableStep,
  arpStep,
  pathStep,
] as const;

type Def = (typeof STEP_TABLE)[number];
/** A step as the run sees it, by kind. */
export type Step = Def extends StepKindDef<infer S, unknown> ? S : never;
export type StepKind = Step["kind"];
/** A step's result (steps with an id that leave one), by kind. */
export type StepOutput = Def extends StepKindDef<infer _S, infer O> ? O : never;

export const STEP_KINDS: readonly StepKind[] = STEP_TABLE.map((d) => d.kind);

/** Steps that produce a result assertions can name. */
export const RESULT_STEPS: readonly StepKind[] = STEP_TABLE.filter((d) => d.leavesResult)
  .map((d) => d.kind);

/** The schema of each kind's value, to parse `- <kind>: <value>`. */
export const STEP_SCHEMAS: Readonly<Record<string, z.ZodType>> = Object.fromEntries(
  STEP_TABLE.map((d) => [d.kind, d.schema]),
);

/** The definition of a kind, typed for any step (each kind's functions take only its own). */
export function stepKind(kind: StepKind): StepKindDef<Step, StepOutput> {
  return STEP_TABLE.find((d) => d.kind === kind) as unknown as StepKindDef<Step, StepOutput>;
}

/** The step of `kind` from its validated value. */
export function stepFromYaml(kind: StepKind, value: unknown): Step {
  const def = stepKind(kind);
  return def.fromYaml ? def.fromYaml(value) : { kind, ...(value as object) } as Step;
}

export type { ArpStep } from "./arp.ts";
export type { PathStep } from "./path.ts";
export type { FtpStep } from "./ftp.ts";
export type { HoldStep } from "./hold.ts";
export type { HttpStep } from "./http.ts";
export type { ProbeStep } from "./probe.ts";
export type { UdpStep } from "./udp.ts";
export type { StepContext, StepKindDef, StepWindow } from "./types.ts";
