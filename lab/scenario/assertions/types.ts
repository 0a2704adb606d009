// What an assertion kind is (AssertionKindDef) and what it is given: the file around it when
// the scenario is checked, what the steps left when it is judged from the clients, and the
// read captures when it is judged from the pcaps.
import type { z } from "zod";
import type { CheckResult } from "../checks.ts";
import type { Scenario } from "../schema.ts";
import type { StepKind, StepOutput } from "../steps/index.ts";
import type { StepWindow } from "../steps/types.ts";
import type { CaptureContext } from "./capture-context.ts";

/** The rest of the file, as the cross-checks of one assertion see it. */
export interface AssertionCheckContext {
  readonly scenario: Omit<Scenario, "file">;
  /** Ids of the steps that leave a result → their kind. */
  readonly stepKinds: ReadonlyMap<string, StepKind>;
}

/** What the steps left: judged without the captures. */
export interface ClientContext {
  readonly outputs: ReadonlyMap<string, StepOutput>;
  readonly windows: ReadonlyMap<string, StepWindow>;
  /** The client's own address (the source of steps that name none). */
  readonly clientAddress: string;
}

/** One assertion kind: `- <kind>: <value>` in a scenario's assertions. A is the assertion. */
export interface AssertionKindDef<A extends { kind: string }> {
  readonly kind: A["kind"];
  /** One line for people: when it passes. */
  readonly description: string;
  /** The value after the kind, as the file gives it. */
  readonly schema: z.ZodType;
  /**
   * The kinds of step its `step` or `steps` may name, in the order the message lists them;
   * checked before `check` (without: any step with a result).
   */
  readonly stepKinds?: readonly StepKind[];
  /** Problems with the rest of the file: one sentence each. */
  check?(spec: A, ctx: AssertionCheckContext, where: string, problems: string[]): void;
  /** Its verdict from what the steps left (null: nothing to judge that way). */
  judgeClient?(spec: A, ctx: ClientContext): CheckResult | null;
  /**
   * Its verdicts from the captures. A kind with this and no judgeClient reads only the
   * captures, and a scenario with capture: false may not use it.
   */
  judgeCapture?(spec: A, ctx: CaptureContext): CheckResult[];
}
