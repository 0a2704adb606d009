// The results assertion: how a step's connections or datagrams ended, as the client saw them.
import { z } from "zod";
import { boundsCheck, missing, outcomeTally, requireBounds } from "../checks.ts";
import { bounds, id } from "../fields.ts";
import type { AssertionKindDef } from "./types.ts";

const schema = z.strictObject({ step: id, ...bounds });

export type ResultsSpec = { kind: "results" } & z.infer<typeof schema>;

export const resultsAssertion: AssertionKindDef<ResultsSpec> = {
  kind: "results",
  description: "a step's outcomes as the client saw them meet the bounds",
  schema,
  stepKinds: ["http", "udp", "probe", "ftp"],
  check: (spec, _ctx, where, problems) => requireBounds(spec, where, problems),
  judgeClient(spec, { outputs }) {
    const name = `results of '${spec.step}'`;
    const out = outputs.get(spec.step);
    if (!out) return missing(name, spec.step);
    const unit = out.kind === "udp" ? "datagrams" : "connections";
    return boundsCheck(name, `${unit} of '${spec.step}' by outcome`, outcomeTally(out), spec);
  },
};
