// The held assertion: the states a hold step's connections ended in (those on one server,
// if given).
import { z } from "zod";
import { boundsCheck, missing, requireBounds, type Tally } from "../checks.ts";
import { bounds, id } from "../fields.ts";
import type { AssertionKindDef } from "./types.ts";

const schema = z.strictObject({
  step: id,
  /** Only the connections held by this server ("rs1" or "172.16.0.2:80"). */
  server: z.string().optional(),
  ...bounds,
});

export type HeldSpec = { kind: "held" } & z.infer<typeof schema>;

export const heldAssertion: AssertionKindDef<HeldSpec> = {
  kind: "held",
  description: "a hold step's connections ended in the given states",
  schema,
  stepKinds: ["hold"],
  check: (spec, _ctx, where, problems) => requireBounds(spec, where, problems),
  judgeClient(spec, { outputs }) {
    const name = `held connections of '${spec.step}'${spec.server ? ` on ${spec.server}` : ""}`;
    const out = outputs.get(spec.step);
    if (!out || out.kind !== "hold") return missing(name, spec.step);
    const conns = out.data.connections.filter((c) =>
      !spec.server || c.server === spec.server || c.serverAddress === spec.server
    );
    const tally: Tally = {};
    for (const c of conns) tally[c.state] = (tally[c.state] ?? 0) + 1;
    const r = boundsCheck(name, `${name} at the end, by state`, tally, spec);
    r.details.push(
      ...conns.map((c) =>
        `#${c.index} ${c.server ?? "?"} ${c.state}: ${c.answered} answers${
          c.error ? ` (${c.error})` : ""
        }`
      ),
    );
    if (!out.final) {
      r.details.push("(the holder's final report was missing; states are from its start)");
    }
    return r;
  },
};
