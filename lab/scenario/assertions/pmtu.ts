// The pmtu assertion (VS/TUN): a DF packet that fits the path but not the tunnel is answered
// by the director with ICMP fragmentation needed from the VIP, carrying the path MTU less the
// tunnel's overhead; the client's connection then sends packets that fit and closes normally.
// `from: router`: a router beyond the director has the smaller MTU; its fragmentation needed
// to the director about a tunnel packet is passed on to the client with the router's MTU
// less the tunnel (IPVS's ip_vs_in_icmp), and the connection then fits and completes.
import { z } from "zod";
import { assertFragNeeded, assertFragNeededFromRouter } from "../../assertions/pmtu.ts";
import { type TunnelIcmpError, tunnelIcmpErrors } from "../../analysis/tunnel-icmp.ts";
import type { CaptureContext } from "./capture-context.ts";
import {
  GRE_CHECKSUM_OVERHEAD,
  TUNNEL_OVERHEAD,
  TUNNEL_TYPES,
  type TunnelType,
} from "../../analysis/tunnel-decode.ts";
import { tunnelsToServers } from "../../capture/segments.ts";
import { scenarioTopology } from "../topology.ts";
import type { AssertionKindDef } from "./types.ts";

export type PmtuSpec = {
  kind: "pmtu";
  type: TunnelType;
  checksum: boolean;
  pathMtu: number;
  from: "director" | "router";
};

/** The routers' ICMP errors to the director about its tunnel packets (its own port). */
function routerErrors(ctx: CaptureContext): TunnelIcmpError[] {
  return ctx.tun ? tunnelIcmpErrors(ctx.tun.directorPackets, ctx.tun.roles.director) : [];
}

/** The next-hop MTU the director announces, and why, in words. */
export function tunnelMtu(
  spec: Pick<PmtuSpec, "type" | "checksum" | "pathMtu">,
): { mtu: number; why: string } {
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
    /** Whose MTU: the director's own path (default), or a router's beyond it (pathMtu its). */
    from: z.enum(["director", "router"]).default("director"),
  }),
  check(_spec, ctx, where, problems) {
    if (!tunnelsToServers(scenarioTopology(ctx.scenario))) {
      problems.push(`${where}: pmtu needs a TUN lab (topology: tun)`);
    }
  },
  judgeCapture(spec, ctx) {
    const vips = new Set(ctx.scenario.services.services.map((s) => s.address));
    const errors = routerErrors(ctx);
    if (spec.from === "router") {
      return [
        assertFragNeededFromRouter(ctx.publicPackets, ctx.publicConns, errors, {
          vips,
          routerMtu: spec.pathMtu,
        }),
      ];
    }
    return [
      assertFragNeeded(ctx.publicPackets, ctx.publicConns, { vips, ...tunnelMtu(spec) }, errors),
    ];
  },
};
