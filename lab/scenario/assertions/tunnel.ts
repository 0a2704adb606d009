// The tunnel assertion (VS/TUN): from the captures, every client packet the director took
// left it inside a tunnel packet of the given type (or, without one, the type the service
// table gives the real server) from the director to the real server holding the connection,
// the client's packet inside unchanged but for TTL and checksums; and no reply passed it.
import { z } from "zod";
import {
  assertNoReplyThroughTunDirector,
  assertTunForwarded,
  assertTunPackets,
  type TunFilter,
  type TunnelExpectation,
} from "../../assertions/tunnel.ts";
import { verdict } from "../../assertions/result.ts";
import { GUE_DEFAULT_PORT, TUNNEL_TYPES, type TunnelType } from "../../analysis/tunnel-decode.ts";
import { tunnelsToServers } from "../../capture/segments.ts";
import type { CheckResult } from "../checks.ts";
import type { Scenario } from "../schema.ts";
import { scenarioTopology } from "../topology.ts";
import { excuseCaptureLoss } from "./capture-context.ts";
import type { AssertionKindDef } from "./types.ts";

export type TunnelSpec = {
  kind: "tunnel";
  type?: TunnelType;
  port?: number;
  during?: string[];
  servers?: string[];
};

/** The tunnel each real server host gets in the scenario's table (its first entry). */
export function tableTunnels(scenario: Scenario): Map<string, TunnelExpectation> {
  const hostOf = new Map(
    scenarioTopology(scenario).hosts.flatMap((h) =>
      h.interfaces.map((i) => [i.address.split("/")[0], h.name] as const)
    ),
  );
  const out = new Map<string, TunnelExpectation>();
  for (const s of scenario.services.services) {
    for (const d of s.servers) {
      const host = hostOf.get(d.address);
      if (!host || out.has(host) || d.method !== "tunnel") continue;
      const type = d.tunType ?? "ipip";
      out.set(host, type === "gue" ? { type, port: d.tunPort ?? GUE_DEFAULT_PORT } : { type });
    }
  }
  return out;
}

export const tunnelAssertion: AssertionKindDef<TunnelSpec> = {
  kind: "tunnel",
  description:
    "VS/TUN: each client packet leaves the director inside an IPIP/GUE/GRE packet to its real " +
    "server, unchanged but for TTL and checksums; no reply passes it",
  schema: z.strictObject({
    type: z.enum(TUNNEL_TYPES as [TunnelType, ...TunnelType[]]).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    // Step ids: only client packets sent while they ran are judged (a phase of one type).
    during: z.array(z.string().min(1)).min(1).optional(),
    servers: z.array(z.string().min(1)).min(1).optional(),
  }).nullable().default({}).transform((v) => v ?? {}),
  check(spec, ctx, where, problems) {
    if (!tunnelsToServers(scenarioTopology(ctx.scenario))) {
      problems.push(
        `${where}: topology '${ctx.scenario.topology}' shares a network between the director ` +
          "and the real servers; tunnel needs a TUN lab (topology: tun)",
      );
    }
    if (spec.port !== undefined && spec.type !== "gue") {
      problems.push(`${where}: port is GUE's UDP port; give it with type: gue only`);
    }
    for (const id of spec.during ?? []) {
      if (!ctx.stepKinds.has(id)) problems.push(`${where}: no step has the id '${id}'`);
    }
  },
  judgeCapture(spec, ctx) {
    if (!ctx.tun) return [verdict("tunnel", false, "the captures hold no TUN path to judge")];
    const windows = (spec.during ?? []).map((id) => ctx.windows.get(id)).filter((w) => !!w);
    const when = spec.during
      ? (t: number) =>
        windows.some((w) => t * 1000 >= w.startedAt - 50 && t * 1000 <= w.endedAt + 50)
      : undefined;
    const filter: TunFilter = { when, servers: spec.servers ? new Set(spec.servers) : undefined };
    const forwarded = assertTunForwarded(ctx.tun, filter);
    const out: CheckResult[] = [
      ctx.scenario.captureComplete ? forwarded : excuseCaptureLoss(forwarded, ctx.lost),
    ];
    // Tunnel packets without their client packet are excused by capture loss only when
    // nothing else is wrong with them (a wrong header is never a capture's fault).
    const excused = (r: CheckResult) =>
      ctx.scenario.captureComplete || r.data.faults !== 0 ? r : excuseCaptureLoss(r, ctx.lost);
    if (spec.type) {
      out.push(excused(assertTunPackets(ctx.tun, { type: spec.type, port: spec.port }, filter)));
    } else {
      // One check per server, with the type the table gives it.
      for (const [host, want] of tableTunnels(ctx.scenario)) {
        if (spec.servers && !spec.servers.includes(host)) continue;
        const r = excused(
          assertTunPackets(ctx.tun, want, { ...filter, servers: new Set([host]) }),
        );
        out.push({ ...r, name: `${r.name} (${host})` });
      }
    }
    out.push(assertNoReplyThroughTunDirector(ctx.tun));
    return out;
  },
};
