// The release step: ends an earlier hold step's holder and keeps its final report (how each
// held connection ended) as that hold's result.
import type { StepKindDef } from "./types.ts";
import { id } from "../fields.ts";
import { counts, tally } from "./common.ts";

export type ReleaseStep = { kind: "release"; id: string };

export const releaseStep: StepKindDef<ReleaseStep> = {
  kind: "release",
  description: "ends a hold step's connections and keeps how each ended",
  schema: id,
  fromYaml: (value) => ({ kind: "release", id: value as string }),
  check(step, ctx, where, problems) {
    if (ctx.stepKinds.get(step.id) !== "hold") {
      problems.push(`${where}: no earlier hold step has id '${step.id}'`);
    } else if (!ctx.openHolds.delete(step.id)) {
      problems.push(`${where}: hold '${step.id}' is released twice`);
    }
  },
  async run(step, ctx) {
    const report = await ctx.release(step.id);
    const states = tally(report.connections, (c) => `${c.server ?? "?"} ${c.state}`);
    return `released '${step.id}': ${counts(states)}`;
  },
};
