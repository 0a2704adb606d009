// The tunnel assertion (VS/TUN): from the captures, every client packet the director took
// left it inside a tunnel packet of the given type (or, without one, the tunnel the service
// table gives the real server for that service: type, GUE port, checksum present or absent)
// from the director to the real server holding the connection,
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

/** The tunnels of one real server host: per service port, and for the ports no service names. */
export interface HostTunnels {
  /** The client's destination port (a service of the table with this server) → its tunnel. */
  byPort: Map<number, TunnelExpectation>;
  /**
   * Connections to other ports (an FTP data connection caught by a persistent service): the
   * tunnel of the host's first persistent service, else of its first entry.
   */
  other: TunnelExpectation;
}

/** One judged group of a host's connections: a tunnel and the ports it covers. */
export interface TunnelGroup {
  host: string;
  want: TunnelExpectation;
  /** The service ports, and whether the ports no service names belong here too. */
  ports: number[];
  others: boolean;
  vport: (port: number) => boolean;
}

type ServerEntry = Scenario["services"]["services"][number]["servers"][number];

/** What IPVS puts on the wire for a table entry (director/forwarding/tunnel-encap.ts). */
function entryTunnel(d: ServerEntry): TunnelExpectation {
  const type = d.tunType ?? "ipip";
  const checksum = d.tunChecksum ?? "nocsum";
  if (type === "gue") {
    return { type, port: d.tunPort ?? GUE_DEFAULT_PORT, checksum: checksum !== "nocsum" };
  }
  // GRE's C bit with --tun-csum only (remcsum is GUE's); IPIP has no checksum of its own.
  return type === "gre" ? { type, checksum: checksum === "csum" } : { type };
}

/** The tunnels each real server host gets in the scenario's table, service by service. */
export function tableTunnels(scenario: Scenario): Map<string, HostTunnels> {
  const hostOf = new Map(
    scenarioTopology(scenario).hosts.flatMap((h) =>
      h.interfaces.map((i) => [i.address.split("/")[0], h.name] as const)
    ),
  );
  const out = new Map<string, HostTunnels & { persistent: boolean }>();
  for (const s of scenario.services.services) {
    for (const d of s.servers) {
      const host = hostOf.get(d.address);
      if (!host || d.method !== "tunnel") continue;
      const want = entryTunnel(d);
      const persistent = (s.persistent ?? 0) > 0;
      const known = out.get(host);
      if (!known) {
        out.set(host, { byPort: new Map([[s.port, want]]), other: want, persistent });
        continue;
      }
      if (!known.byPort.has(s.port)) known.byPort.set(s.port, want);
      if (persistent && !known.persistent) Object.assign(known, { other: want, persistent });
    }
  }
  return new Map([...out].map(([h, { byPort, other }]) => [h, { byPort, other }]));
}

/** A host's tunnels as groups of ports with one expectation each (one check per group). */
export function tunnelGroups(host: string, tunnels: HostTunnels): TunnelGroup[] {
  const groups = new Map<string, TunnelGroup>();
  const group = (want: TunnelExpectation) => {
    const key = JSON.stringify(want);
    let g = groups.get(key);
    if (!g) {
      g = { host, want, ports: [], others: false, vport: () => false };
      groups.set(key, g);
    }
    return g;
  };
  for (const [port, want] of tunnels.byPort) group(want).ports.push(port);
  group(tunnels.other).others = true;
  for (const g of groups.values()) {
    const ports = new Set(g.ports);
    g.vport = (p) => ports.has(p) || (g.others && !tunnels.byPort.has(p));
  }
  return [...groups.values()];
}

/** "rs2, VIP:80, :21 and other ports": which connections one group judges. */
function groupName(g: TunnelGroup, several: boolean): string {
  if (!several) return g.host;
  const ports = g.ports.map((p) => `:${p}`).join(", ");
  return `${g.host}, ${ports}${g.others ? " and other ports" : ""}`;
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
      // One check per server and tunnel the table gives it (a server may be reached by
      // one tunnel for one service, another for the next), over that tunnel's ports.
      for (const [host, tunnels] of tableTunnels(ctx.scenario)) {
        if (spec.servers && !spec.servers.includes(host)) continue;
        const groups = tunnelGroups(host, tunnels);
        for (const g of groups) {
          const r = excused(
            assertTunPackets(ctx.tun, g.want, {
              ...filter,
              servers: new Set([host]),
              vport: g.vport,
            }),
          );
          out.push({ ...r, name: `${r.name} (${groupName(g, groups.length > 1)})` });
        }
      }
    }
    out.push(assertNoReplyThroughTunDirector(ctx.tun));
    return out;
  },
};
