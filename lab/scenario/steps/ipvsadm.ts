// The ipvsadm step: one ipvsadm command in the director host, in ipvsadm's own syntax; the
// step fails unless it exits with the expected code.
import { z } from "zod";
import type { StepKindDef } from "./types.ts";

export type IpvsadmStep = { kind: "ipvsadm"; id?: string; args: string[]; expectCode: number };

const schema = z.union([
  z.string().min(1),
  z.strictObject({ args: z.string().min(1), expectCode: z.number().int().default(0) }),
]);

function splitArgs(args: string): string[] {
  return args.trim().split(/\s+/).filter(Boolean);
}

export const ipvsadmStep: StepKindDef<IpvsadmStep> = {
  kind: "ipvsadm",
  description: "an ipvsadm command in the director host, with the exit code it must give",
  schema,
  fromYaml(value) {
    const v = value as z.infer<typeof schema>;
    return typeof v === "string"
      ? { kind: "ipvsadm", args: splitArgs(v), expectCode: 0 }
      : { kind: "ipvsadm", args: splitArgs(v.args), expectCode: v.expectCode };
  },
  async run(step, ctx) {
    const r = await ctx.backend.exec("director", ["ipvsadm", ...step.args], {
      timeoutMs: ctx.budget(30_000),
    });
    const out = (r.stdout + r.stderr).trim();
    if (r.code !== step.expectCode) {
      throw new Error(
        `'ipvsadm ${step.args.join(" ")}' exited with ${r.code}, expected ${step.expectCode}: ${
          out || "(no output)"
        }`,
      );
    }
    return `ipvsadm ${step.args.join(" ")}${out ? `: ${out.split("\n")[0]}` : ""}`;
  },
};
