// The outcomes assertion: from the client network's capture, how every connection to a
// VIP:port ended (accepted, refused, dropped), and whether they reached a real server (or,
// refused or dropped, none at all) on the private network.
import { z } from "zod";
import { assertOutcomes } from "../../assertions/connections.ts";
import { firstFew, plural, verdict } from "../../assertions/result.ts";
import type { CheckResult } from "../checks.ts";
import { ipv4, port } from "../fields.ts";
import { type CaptureContext, connectionsOf, privateTwins } from "./capture-context.ts";
import type { AssertionKindDef } from "./types.ts";

const schema = z.strictObject({
  vip: ipv4.optional(),
  vport: port,
  protocol: z.enum(["tcp", "udp"]).default("tcp"),
  /** How every connection to the port ends, seen on the client network. */
  expect: z.enum(["accepted", "refused", "dropped"]).optional(),
  /** The real server:port every connection must reach on the private network. */
  server: z.string().optional(),
  minConnections: z.number().int().min(1).default(1),
});

export type OutcomesSpec = { kind: "outcomes" } & z.infer<typeof schema>;

function judge(spec: OutcomesSpec, ctx: CaptureContext): CheckResult[] {
  const vip = spec.vip ?? ctx.scenario.vip;
  const port = spec.vport;
  const min = { min: spec.minConnections };
  const expected = spec.expect === "accepted"
    ? { accepted: min, refused: 0, dropped: 0 }
    : spec.expect === "refused"
    ? { refused: min, accepted: 0, dropped: 0 }
    : { dropped: min, accepted: 0, refused: 0 };
  const out = spec.expect
    ? [assertOutcomes(ctx.publicConns, { protocol: spec.protocol, vip, port, expected })]
    : [];
  const mine = connectionsOf(ctx.publicConns, {
    protocol: spec.protocol,
    vip,
    port,
    servers: [],
  });
  const clients = new Set(mine.map((c) => `${c.client.addr}:${c.client.port}`));
  const behind = privateTwins(ctx.privateConns, mine);
  const where = `${vip}:${port}`;
  if (spec.server) {
    const reached = behind.filter((c) => `${c.server.addr}:${c.server.port}` === spec.server);
    const elsewhere = behind.filter((c) => `${c.server.addr}:${c.server.port}` !== spec.server);
    const ok = reached.length >= spec.minConnections && elsewhere.length === 0;
    out.push(verdict(
      `connections to ${where} reach ${spec.server}`,
      ok,
      `${
        plural(reached.length, "connection")
      } to ${where} reached ${spec.server} on the private network` +
        (elsewhere.length ? `, ${elsewhere.length} went elsewhere` : "") +
        (ok ? "" : ` (expected at least ${spec.minConnections}, none elsewhere)`),
      firstFew(
        behind.map((c) =>
          `${c.client.addr}:${c.client.port} -> ${c.server.addr}:${c.server.port} (${c.outcome}: ${c.outcomeReason})`
        ),
        5,
      ),
    ));
  } else if (spec.expect && spec.expect !== "accepted") {
    out.push(verdict(
      `nothing of ${where} reaches the real servers`,
      behind.length === 0 && clients.size > 0,
      clients.size === 0
        ? `no connection to ${where} was captured on the client network`
        : behind.length === 0
        ? `none of the ${
          plural(clients.size, "connection")
        } to ${where} appears on the private network: the director answered them itself`
        : `${plural(behind.length, "connection")} to ${where} reached the private network`,
    ));
  }
  return out;
}

export const outcomesAssertion: AssertionKindDef<OutcomesSpec> = {
  kind: "outcomes",
  description: "every captured connection to a VIP:port ended as expected, on the server given",
  schema,
  check(spec, _ctx, where, problems) {
    if (!spec.expect && !spec.server) {
      problems.push(`${where}: give expect (accepted, refused, dropped), server, or both`);
    }
  },
  judgeCapture: judge,
};
