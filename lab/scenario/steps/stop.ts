// The stop step: stops one of the scenario's programs (programs:), as a real server's
// service going away.
import { programStepParts } from "./common.ts";
import type { StepKindDef } from "./types.ts";

export type StopStep = { kind: "stop"; id: string };

export const stopStep: StepKindDef<StopStep> = {
  ...programStepParts("stop"),
  description: "stops one of the scenario's programs",
  async run(step, ctx) {
    const p = ctx.programs.get(step.id)!;
    if (!p.process) throw new Error(`program '${step.id}' is not running`);
    await p.process.stop();
    p.process = null;
    return `stopped program '${step.id}' (${p.spec.kind} ${p.spec.listen} on ${p.spec.host})`;
  },
};
