// The udp step: datagrams from the client host (clients/udp-client.ts), each from its own
// source port, echoes checked. The port needs no service: that shows the refusal.
import { z } from "zod";
import type { UdpSummary } from "../../../clients/udp-client.ts";
import { count, id, ipv4, ms, port } from "../fields.ts";
import { counts } from "./common.ts";
import type { StepKindDef } from "./types.ts";

const schema = z.strictObject({
  id: id.optional(),
  vip: ipv4.optional(),
  vport: port,
  count: count(10_000).default(10),
  size: count(65_000).default(64),
  timeoutMs: ms(10_000).default(1000),
});

export type UdpStep = z.infer<typeof schema> & { kind: "udp" };
export type UdpOutput = { kind: "udp"; data: UdpSummary };

/** Most UDP flows of all udp steps together: each needs a source port of its own. */
const MAX_UDP_FLOWS = 40_000;

export const udpStep: StepKindDef<UdpStep, UdpOutput> = {
  kind: "udp",
  description: "UDP datagrams from the client, each from its own source port, echoes checked",
  schema,
  leavesResult: true,
  checkAll(steps, problems) {
    const flows = steps.reduce((n, st) => n + st.count, 0);
    if (flows > MAX_UDP_FLOWS) {
      problems.push(
        `steps: ${flows} UDP flows in all; at most 40000 (each needs its own source port)`,
      );
    }
  },
  async run(step, ctx) {
    const { vip } = ctx;
    // Each udp step gets its own source ports, so flows of two steps never share a tuple.
    const basePort = ctx.takeUdpPorts(step.count);
    const data = await ctx.client<UdpSummary>("clients/udp-client.ts", [
      "--base-port",
      String(basePort),
      "--target",
      `${vip}:${step.vport}`,
      "--count",
      String(step.count),
      "--size",
      String(step.size),
      "--timeout-ms",
      String(step.timeoutMs),
    ], step.count * step.timeoutMs + 30_000);
    ctx.note(step.id, { kind: "udp", data }, { vport: step.vport, protocol: "udp" });
    return `${data.sent} datagrams to ${vip}:${step.vport}: ${data.echoed} echoed (${
      counts(data.byServerAddress)
    }), ` +
      `${data.refused} refused, ${data.timedOut} unanswered, ${data.corrupted} corrupted`;
  },
};
