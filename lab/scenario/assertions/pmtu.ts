// The pmtu assertion (VS/TUN): a DF packet that fits the path but not the tunnel is answered
// by the director with ICMP fragmentation needed from the VIP, carrying the path MTU less the
// tunnel's overhead; the client's connection then sends packets that fit and closes normally.
import { z } from "zod";
import { assertFragNeeded } from "../../assertions/pmtu.ts";
import {
  GRE_CHECKSUM_OVERHEAD,
  TUNNEL_OVERHEAD,
  TUNNEL_TYPES,
  type TunnelType,
} from "../../analysis/tunnel-decode.ts";
import { tunnelsToServers } from "../../capture/segments.ts";
import { scenarioTopology } from "../topology.ts";
import type { AssertionKindDef } from "./types.ts";

export type PmtuSpec = { kind: "pmtu"; type: TunnelType; checksum: boolean; pathMtu: number };

/** The next-hop MTU the director announces, and why, in words. */
export function tunnelMtu(spec: Omit<PmtuSpec, "kind">): { mtu: number; why: string } {
  const extra = spec.type === "gre" && spec.checksum ? GRE_CHECKSUM_OVERHEAD : 0;
  const overhead = TUNNEL_OVERHEAD[spec.type] + extra;
  const what = spec.type === "gre" && spec.checksum
    ? "GRE with its checksum"
    : spec.type.toUpperCase();
  return {
    mtu: spec.pathMtu - overhead,
    why: `path MTU ${spec.pathMtu} less ${overhead} for ${what}`,
  };
}

export const pmtuAssertion: AssertionKindDef<PmtuSpec> = {
  kind: "pmtu",
  description:
    "VS/TUN: ICMP fragmentation needed from the VIP with the path MTU less the tunnel; the " +
    "connection then fits and completes",
  schema: z.strictObject({
    type: z.enum(TUNNEL_TYPES as [TunnelType, ...TunnelType[]]),
    /** GRE: the tunnel carries its checksum (4 bytes more). */
    checksum: z.boolean().default(false),
    pathMtu: z.number().int().min(576).max(9000).default(1500),
  }),
  check(_spec, ctx, where, problems) {
    if (!tunnelsToServers(scenarioTopology(ctx.scenario))) {
      problems.push(`${where}: pmtu needs a TUN lab (topology: tun)`);
    }
  },
  judgeCapture(spec, ctx) {
    const vips = new Set(ctx.scenario.services.services.map((s) => s.address));
    return [assertFragNeeded(ctx.publicPackets, ctx.publicConns, { vips, ...tunnelMtu(spec) })];
  },
};
