// The wait step: a pause of so many milliseconds, within the scenario's timeoutSeconds.
import { count } from "../fields.ts";
import { sleep } from "./common.ts";
import type { StepKindDef } from "./types.ts";

export type WaitStep = { kind: "wait"; ms: number };

export const waitStep: StepKindDef<WaitStep> = {
  kind: "wait",
  description: "pauses",
  schema: count(120_000),
  fromYaml: (value) => ({ kind: "wait", ms: value as number }),
  async run(step, ctx) {
    ctx.budget(step.ms);
    if (Date.now() + step.ms > ctx.deadline) {
      throw new Error(`waiting ${step.ms} ms would run past the scenario's timeoutSeconds`);
    }
    await sleep(step.ms);
    return `waited ${step.ms} ms`;
  },
};
