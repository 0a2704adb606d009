// The start step: starts a stopped program of the scenario (programs:) again.
import { programStepParts } from "./common.ts";
import type { StepKindDef } from "./types.ts";

export type StartStep = { kind: "start"; id: string };

export const startStep: StepKindDef<StartStep> = {
  ...programStepParts("start"),
  description: "starts a stopped program of the scenario again",
  async run(step, ctx) {
    const p = ctx.programs.get(step.id)!;
    if (p.process) throw new Error(`program '${step.id}' is already running`);
    await ctx.startProgram(p);
    return `started program '${step.id}' (${p.spec.kind} ${p.spec.listen} on ${p.spec.host})`;
  },
};
