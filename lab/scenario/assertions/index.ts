// Scenario assertion kinds: one file per kind (`- <kind>: ...` in a scenario's assertions),
// each exporting its schema, its cross-checks, how it is judged (from what the steps left,
// from the captures, or both) and a one-line description, and ONE table below listing them.
// The AssertionSpec type, the schemas the file is parsed with, which kinds read the captures
// and both judges come from the table; the capture analysis itself is in lab/assertions/.
//
// To add an assertion kind: write <kind>.ts here exporting an AssertionKindDef (types.ts;
// servers.ts and payload.ts are small examples), add one line to ASSERTION_TABLE, and
// document it in the assertions table of scenarios/README.md (a unit test checks that every
// kind is there).
import type { z } from "zod";
import type { CheckResult } from "../checks.ts";
import type { StepOutput } from "../steps/index.ts";
import type { StepWindow } from "../steps/types.ts";
import type { CaptureContext } from "./capture-context.ts";
import { directRoutingAssertion } from "./direct-routing.ts";
import { pmtuAssertion } from "./pmtu.ts";
import { tunnelAssertion } from "./tunnel.ts";
import { tsharkAssertion } from "./tshark.ts";
import { distributionAssertion } from "./distribution.ts";
import { ftpAssertion } from "./ftp.ts";
import { heldAssertion } from "./held.ts";
import { oneServerAssertion } from "./one-connection-one-server.ts";
import { outcomesAssertion } from "./outcomes.ts";
import { payloadAssertion } from "./payload.ts";
import { resultsAssertion } from "./results.ts";
import { rewriteAssertion } from "./rewrite.ts";
import { serversAssertion } from "./servers.ts";
import { stickyAssertion } from "./sticky.ts";
import { tableAssertion } from "./table.ts";
import { vipNeighbourAssertion } from "./vip-neighbour.ts";
import type { AssertionKindDef, ClientContext } from "./types.ts";

/** THE table: every assertion kind, in the order messages list them. */
export const ASSERTION_TABLE = [
  distributionAssertion,
  rewriteAssertion,
  oneServerAssertion,
  outcomesAssertion,
  serversAssertion,
  resultsAssertion,
  stickyAssertion,
  heldAssertion,
  tableAssertion,
  ftpAssertion,
  payloadAssertion,
  vipNeighbourAssertion,
  directRoutingAssertion,
  tunnelAssertion,
  tsharkAssertion,
  pmtuAssertion,
] as const;

type Def = (typeof ASSERTION_TABLE)[number];
/** An assertion as the judges see it, by kind. */
export type AssertionSpec = Def extends AssertionKindDef<infer A> ? A : never;
export type AssertionKind = AssertionSpec["kind"];

export const ASSERTION_KINDS: readonly AssertionKind[] = ASSERTION_TABLE.map((d) => d.kind);

/** The schema of each kind's value, to parse `- <kind>: <value>`. */
export const ASSERTION_SCHEMAS: Readonly<Record<string, z.ZodType>> = Object.fromEntries(
  ASSERTION_TABLE.map((d) => [d.kind, d.schema]),
);

/** The definition of a kind, typed for any assertion (each kind's functions take only its own). */
export function assertionKind(kind: AssertionKind): AssertionKindDef<AssertionSpec> {
  return ASSERTION_TABLE.find((d) => d.kind === kind) as unknown as AssertionKindDef<
    AssertionSpec
  >;
}

/** Assertion kinds judged (at least partly) from the captures. */
export const CAPTURE_KINDS: readonly AssertionKind[] = ASSERTION_TABLE
  .filter((d) => "judgeCapture" in d).map((d) => d.kind);

/** Kinds judged only from the captures: a scenario with capture: false may not use them. */
export const CAPTURE_ONLY_KINDS: readonly AssertionKind[] = ASSERTION_TABLE
  .filter((d) => "judgeCapture" in d && !("judgeClient" in d)).map((d) => d.kind);

/**
 * Judges what the clients and the table show: kinds servers, results, sticky, held, table,
 * ftp, and the client-attribution half of distribution. Capture-only kinds give [].
 */
export function evaluateClientAssertion(
  spec: AssertionSpec,
  outputs: ReadonlyMap<string, StepOutput>,
  windows: ReadonlyMap<string, StepWindow>,
  clientAddress: string,
): CheckResult[] {
  const ctx: ClientContext = { outputs, windows, clientAddress };
  const one = assertionKind(spec.kind).judgeClient?.(spec, ctx) ?? null;
  return one ? [one] : [];
}

/** Judges one assertion from the captures ([] for kinds that do not read them). */
export function evaluateCaptureAssertion(spec: AssertionSpec, ctx: CaptureContext): CheckResult[] {
  return assertionKind(spec.kind).judgeCapture?.(spec, ctx) ?? [];
}

export type { AssertionCheckContext, AssertionKindDef, ClientContext } from "./types.ts";
export type { TableEntrySpec } from "./table.ts";
