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
import { drConnectionsByServer } from "../../assertions/direct-routing.ts";
import type { AssertionKindDef } from "./types.ts";

/** A weights key naming a server: "address:port", or a host name such as "rs1" (DR). */
const ADDRESS_KEY = /^\d+\.\d+\.\d+\.\d+:\d+$/;
const NAME_KEY = /^[a-z][a-z0-9-]{0,15}$/;

/** Whether the weights name servers by host (all keys names) rather than by address:port. */
function byName(weights: Record<string, number>): boolean {
  return Object.keys(weights).every((k) => NAME_KEY.test(k));
}

const schema = z.strictObject({
  step: id,
  /**
   * "address:port" of each real server → its weight; or its name (rs1) → its weight, as in
   * a DR lab, where every real server answers on the VIP:port itself.
   */
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
    const keys = Object.keys(spec.weights);
    if (!keys.every((k) => ADDRESS_KEY.test(k)) && !byName(spec.weights)) {
      problems.push(
        `${where}: weights keys must all be real server address:port, or all server names ` +
          `(rs1), not '${keys.join("', '")}'`,
      );
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
      counts: countsFromAttribution(
        out.data.byServerAddress,
        byName(spec.weights) ? "name" : "address",
      ),
      weights: spec.weights,
      alpha: spec.significance,
      what,
      name,
    });
  },
  judgeCapture(spec, { windows, privateConns, dr: drView, tun }) {
    const dr = drView ?? tun;
    if (!spec.from.includes("capture")) return [];
    const w = windows.get(spec.step);
    const name = `distribution of '${spec.step}' (${
      drView ? "DR captures" : tun ? "TUN captures" : "private capture"
    })`;
    if (!w) {
      return [
        verdict(name, false, `step '${spec.step}' left no record to match the capture with`),
      ];
    }
    if (dr) {
      if (!byName(spec.weights)) {
        return [
          verdict(name, false, "in a DR or TUN lab give the weights by server name (rs1: 1)"),
        ];
      }
      return [assertDistribution({
        counts: drConnectionsByServer(
          dr,
          (c) => inWindow(c, w) && c.protocol === w.protocol && c.server.port === w.vport,
        ),
        weights: spec.weights,
        alpha: spec.significance,
        what: `connections to ${w.vip}:${w.vport} by the real server whose own port shows ` +
          `the replies (step '${spec.step}')`,
        name,
      })];
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
