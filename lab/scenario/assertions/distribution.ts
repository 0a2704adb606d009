// The distribution assertion: an http step's connections split as the weights say
// (Pearson's chi-square, lab/assertions/distribution.ts), counted from the client's
// attribution and from the private network's capture.
import { z } from "zod";
import {
  assertDistribution,
  countConnectionsByServer,
  countsFromAttribution,
} from "../../assertions/distribution.ts";
import { verdict } from "../../assertions/result.ts";
import { missing } from "../checks.ts";
import { id } from "../fields.ts";
import { inWindow } from "./capture-context.ts";
import type { AssertionKindDef } from "./types.ts";

const schema = z.strictObject({
  step: id,
  /** "address:port" of each real server → its weight. */
  weights: z.record(z.string(), z.number().int().min(0)),
  /** Chi-square significance level: the test fails when p < significance. */
  significance: z.number().gt(0).lt(1).default(0.001),
  from: z.array(z.enum(["client", "capture"])).min(1).default(["client", "capture"]),
});

export type DistributionSpec = { kind: "distribution" } & z.infer<typeof schema>;

export const distributionAssertion: AssertionKindDef<DistributionSpec> = {
  kind: "distribution",
  description: "an http step's connections split as the weights say (chi-square)",
  schema,
  stepKinds: ["http"],
  check(spec, ctx, where, problems) {
    const total = Object.values(spec.weights).reduce((x, y) => x + y, 0);
    if (Object.keys(spec.weights).length < 2 || total === 0) {
      problems.push(`${where}: weights must name at least two servers with a weight above 0`);
    }
    for (const k of Object.keys(spec.weights)) {
      if (!/^\d+\.\d+\.\d+\.\d+:\d+$/.test(k)) {
        problems.push(`${where}: weights key '${k}' is not a real server address:port`);
      }
    }
    if (spec.from.includes("capture") && !ctx.scenario.capture) {
      problems.push(`${where}: counts from the capture need 'capture: true'`);
    }
  },
  judgeClient(spec, { outputs, windows }) {
    if (!spec.from.includes("client")) return null;
    const w = windows.get(spec.step);
    const what = `answers from ${
      w ? `${w.vip}:${w.vport}` : "the service"
    } (client attribution, step '${spec.step}')`;
    const name = `distribution of '${spec.step}' (client attribution)`;
    const out = outputs.get(spec.step);
    if (!out || out.kind !== "http") return missing(name, spec.step);
    return assertDistribution({
      counts: countsFromAttribution(out.data.byServerAddress),
      weights: spec.weights,
      alpha: spec.significance,
      what,
      name,
    });
  },
  judgeCapture(spec, { windows, privateConns }) {
    if (!spec.from.includes("capture")) return [];
    const w = windows.get(spec.step);
    const name = `distribution of '${spec.step}' (private capture)`;
    if (!w) {
      return [
        verdict(name, false, `step '${spec.step}' left no record to match the capture with`),
      ];
    }
    const servers = Object.keys(spec.weights);
    const conns = privateConns.filter((c) => inWindow(c, w));
    return [assertDistribution({
      counts: countConnectionsByServer(conns, { protocol: w.protocol, servers }),
      weights: spec.weights,
      alpha: spec.significance,
      what: `connections to ${w.vip}:${w.vport} seen on the private network (step '${spec.step}')`,
      name,
    })];
  },
};
