// The servers assertion: how many answers (http), datagrams (udp) or held connections (hold)
// of a step each real server got.
import { z } from "zod";
import { boundsCheck, missing, requireBounds, serverTally } from "../checks.ts";
import { bounds, id } from "../fields.ts";
import type { AssertionKindDef } from "./types.ts";

const schema = z.strictObject({ step: id, ...bounds });

export type ServersSpec = { kind: "servers" } & z.infer<typeof schema>;

export const serversAssertion: AssertionKindDef<ServersSpec> = {
  kind: "servers",
  description: "a step's answers, datagrams or held connections per real server meet the bounds",
  schema,
  stepKinds: ["http", "hold", "udp"],
  check: (spec, _ctx, where, problems) => requireBounds(spec, where, problems),
  judgeClient(spec, { outputs }) {
    const name = `servers of '${spec.step}'`;
    const out = outputs.get(spec.step);
    if (!out) return missing(name, spec.step);
    const unit = out.kind === "hold"
      ? "held connections"
      : out.kind === "udp"
      ? "datagrams"
      : "answers";
    return boundsCheck(name, `${unit} of '${spec.step}' per real server`, serverTally(out), spec);
  },
};
