// The hold step: connections opened from the client host and kept open in the background
// (clients/tcp-hold.ts), a GET on each now and then, until a release step (or the end).
import path from "node:path";
import { z } from "zod";
import type { HoldReport } from "../../../clients/tcp-hold.ts";
import { count, id, ipv4, ms, port } from "../fields.ts";
import { counts, requireSources, requireTcpService, tally, waitForLine } from "./common.ts";
import type { StepKindDef } from "./types.ts";
import { READY_LINES } from "../../../director/ready-lines.ts";

const schema = z.strictObject({
  id,
  vip: ipv4.optional(),
  vport: port.default(80),
  count: count(200).default(1),
  /** A GET on each held connection this often; 0 sends only the first. */
  intervalMs: ms(600_000).default(1000),
  /** The holder ends by itself after this long (released earlier by a release step). */
  holdMs: count(300_000).default(120_000),
  timeoutMs: ms(60_000).default(2000),
  source: ipv4.optional(),
});

export type HoldStep = z.infer<typeof schema> & { kind: "hold" };
/** final: from the holder's last report (after release), not its first. */
export type HoldOutput = { kind: "hold"; data: HoldReport; final: boolean };

export const holdStep: StepKindDef<HoldStep, HoldOutput> = {
  kind: "hold",
  description: "connections held open in the background until a release step",
  schema,
  leavesResult: true,
  check(step, ctx, where, problems) {
    requireTcpService(ctx, step.vip, step.vport, where, problems);
    requireSources(ctx, step.source ? [step.source] : [], where, problems);
    ctx.openHolds.add(step.id);
  },
  async run(step, ctx) {
    const { vip } = ctx;
    const log = path.join(ctx.logDir, `hold-${step.id}.log`);
    const argv = ctx.backend.program("clients/tcp-hold.ts", [
      "--target",
      `${vip}:${step.vport}`,
      "--count",
      String(step.count),
      "--hold-ms",
      String(step.holdMs),
      "--interval-ms",
      String(step.intervalMs),
      "--timeout-ms",
      String(step.timeoutMs),
      ...(step.source ? ["--source", step.source] : []),
    ]);
    const proc = await ctx.backend.spawn("client", argv, log);
    let ended = false;
    void proc.exited.then(() => (ended = true));
    ctx.holds.set(step.id, { process: proc, log });
    const ready = await waitForLine(
      log,
      `${READY_LINES.tcpHold} `,
      ctx.budget(step.count * step.timeoutMs * 2 + 15_000),
      () => ended,
    );
    const data = JSON.parse(ready) as HoldReport;
    ctx.note(step.id, { kind: "hold", data, final: false }, { vport: step.vport, protocol: "tcp" });
    const byServer = tally(data.connections, (c) => c.server ?? `not opened`);
    return `holding ${data.connections.length} connections to ${vip}:${step.vport}: ${
      counts(byServer)
    }`;
  },
};
