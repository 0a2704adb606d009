// The http step: HTTP load from the client host (clients/http-conns.ts), each answer
// attributed to the real server that wrote the page.
import { z } from "zod";
import type { ConnSummary } from "../../../clients/http-conns.ts";
import { count, id, ipv4, ms, port } from "../fields.ts";
import { counts, requireSources, requireTcpService } from "./common.ts";
import type { StepKindDef } from "./types.ts";

const schema = z.strictObject({
  id: id.optional(),
  vip: ipv4.optional(),
  vport: port.default(80),
  connections: count(20_000).default(10),
  /** GETs per connection: 1 is a new connection per request, more keep it alive. */
  requests: count(1000).default(1),
  concurrency: count(256).default(1),
  timeoutMs: ms(60_000).default(3000),
  /** Client source addresses to use in turn (see clientAddresses). */
  sources: z.array(ipv4).optional(),
});

export type HttpStep = z.infer<typeof schema> & { kind: "http" };
export type HttpOutput = { kind: "http"; data: ConnSummary };

export const httpStep: StepKindDef<HttpStep, HttpOutput> = {
  kind: "http",
  description: "HTTP connections from the client, each answer attributed to its real server",
  schema,
  leavesResult: true,
  check(step, ctx, where, problems) {
    requireTcpService(ctx, step.vip, step.vport, where, problems);
    requireSources(ctx, step.sources ?? [], where, problems);
  },
  async run(step, ctx) {
    const { vip } = ctx;
    const args = [
      "--url",
      `http://${vip}:${step.vport}/`,
      "--connections",
      String(step.connections),
      "--requests",
      String(step.requests),
      "--concurrency",
      String(step.concurrency),
      "--timeout-ms",
      String(step.timeoutMs),
      ...(step.sources ?? []).flatMap((s) => ["--source", s]),
    ];
    const rounds = Math.ceil(step.connections / step.concurrency) * step.requests;
    const data = await ctx.client<ConnSummary>(
      "clients/http-conns.ts",
      args,
      rounds * step.timeoutMs + 30_000,
    );
    ctx.note(step.id, { kind: "http", data }, { vport: step.vport, protocol: "tcp" });
    const failed = data.failed
      ? `, ${data.failed} failed (${
        counts(Object.fromEntries(
          Object.entries(data.outcomes).filter(([k, v]) => k !== "ok" && v > 0),
        ))
      })`
      : "";
    return `${data.connections} connections x ${step.requests} requests to ${vip}:${step.vport}: ` +
      `${data.answered} answered (${counts(data.byServerAddress)})${failed}`;
  },
};
