// The probe step: TCP connection attempts from the client host (clients/tcp-probe.ts), how
// each ended, and the first line a server sent (a banner).
import { z } from "zod";
import type { ProbeSummary } from "../../../clients/tcp-probe.ts";
import { count, id, ipv4, ms, port } from "../fields.ts";
import { counts } from "./common.ts";
import type { StepKindDef } from "./types.ts";

const schema = z.strictObject({
  id: id.optional(),
  vip: ipv4.optional(),
  vport: port,
  count: count(1000).default(1),
  timeoutMs: ms(60_000).default(2000),
  /** Wait this long for a first line (a banner) after connecting. */
  bannerMs: ms(10_000).default(0),
});

export type ProbeStep = z.infer<typeof schema> & { kind: "probe" };
export type ProbeOutput = { kind: "probe"; data: ProbeSummary };

export const probeStep: StepKindDef<ProbeStep, ProbeOutput> = {
  kind: "probe",
  description: "TCP connection attempts: accepted, refused, reset or timed out, with any banner",
  schema,
  leavesResult: true,
  check(step, ctx, where, problems) {
    if (step.vip && !ctx.vips.has(step.vip) && step.vip !== ctx.scenario.vip) {
      problems.push(`${where}: ${step.vip} is not a virtual address of the service table`);
    }
  },
  async run(step, ctx) {
    const { vip } = ctx;
    const data = await ctx.client<ProbeSummary>("clients/tcp-probe.ts", [
      "--target",
      `${vip}:${step.vport}`,
      "--count",
      String(step.count),
      "--timeout-ms",
      String(step.timeoutMs),
      "--banner-ms",
      String(step.bannerMs),
    ], step.count * (step.timeoutMs + step.bannerMs) + 30_000);
    ctx.note(step.id, { kind: "probe", data }, { vport: step.vport, protocol: "tcp" });
    const banner = data.banners.length ? `; first line '${data.banners[0]}'` : "";
    return `${data.attempts} connection attempts to ${vip}:${step.vport}: ${
      counts(Object.fromEntries(Object.entries(data.outcomes).filter(([, v]) => v > 0)))
    }${banner}`;
  },
};
