// Control requests as the packet worker applies them to its engine. The worker owns the
// service and connection tables (they live where the packets are), so every run-time change
// arrives here as a message and is applied between two packets.
import type { DirectorEngine } from "../engine/engine.ts";
import { IpvsadmUsageError } from "../ipvsadm/command.ts";
import {
  type EngineSnapshot,
  type PacketPathCounters,
  snapshotConnections,
  snapshotEngine,
  snapshotTimeouts,
} from "./snapshot.ts";
import { applyTableCommands, type TableCommand } from "./table-commands.ts";
import { readSysctls, writeSysctls } from "../sysctl/settings.ts";
import type { LinkDescription, NextHopDescription } from "../net/link-table.ts";
import type { TunnelHopDescription } from "../net/tunnel-table.ts";
import type { NatRouteDescription } from "../net/nat-routes.ts";
import { type FillRequest, fillTable } from "../engine/synthetic-fill.ts";

export type ControlRequest =
  | { id: number; op: "ipvsadm"; commands: TableCommand[] }
  | { id: number; op: "snapshot" }
  | { id: number; op: "connections" }
  | { id: number; op: "timeouts" }
  | { id: number; op: "sysctl"; set?: Record<string, unknown> }
  /** From the director's control thread only: where DR frames go (director/net/). */
  | { id: number; op: "links"; links: LinkDescription[]; hops: NextHopDescription[] }
  /** From the director's control thread only: the routes towards TUN servers. */
  | { id: number; op: "tunnels"; hops: TunnelHopDescription[] }
  /** From the director's control thread only: VS/NAT's routes over the links. */
  | { id: number; op: "natRoutes"; routes: NatRouteDescription[] }
  /** The bench's synthetic entries; the director passes it on only with --allow-test-fill. */
  | ({ id: number; op: "fill" } & FillRequest);

export const CONTROL_OPS: readonly ControlRequest["op"][] = [
  "ipvsadm",
  "snapshot",
  "connections",
  "timeouts",
  "sysctl",
  "links",
  "tunnels",
  "natRoutes",
  "fill",
];

/**
 * Every answer carries the virtual addresses in use, so the host's routes follow the table,
 * and the addresses of the Route (DR), Tunnel and Masq (NAT) servers, so their next hops do.
 */
export interface TableAddresses {
  vips: number[];
  routeServers: number[];
  tunnelServers: number[];
  natServers: number[];
}
export type ControlResponse =
  | ({ id: number; ok: true; result: unknown } & TableAddresses)
  | ({ id: number; ok: false; error: string } & TableAddresses);

/** The addresses every control answer carries. */
export function tableAddresses(engine: DirectorEngine): TableAddresses {
  const routeServers = new Set<number>();
  const tunnelServers = new Set<number>();
  const natServers = new Set<number>();
  for (const { service } of engine.services.entries) {
    for (const dest of service.destinations) {
      if (dest.method === "route") routeServers.add(dest.addr >>> 0);
      if (dest.method === "tunnel") tunnelServers.add(dest.addr >>> 0);
      if (dest.method === "masq") natServers.add(dest.addr >>> 0);
    }
  }
  return {
    vips: engine.services.virtualAddresses(),
    routeServers: [...routeServers],
    tunnelServers: [...tunnelServers],
    natServers: [...natServers],
  };
}

/** The answer to an "ipvsadm" request: done, or refused with ipvsadm's message and exit code. */
export type IpvsadmResult =
  | { refused: null }
  | { refused: string; exitCode: number };

export function applyControl(
  engine: DirectorEngine,
  request: ControlRequest,
  pathCounters: PacketPathCounters,
): unknown {
  switch (request.op) {
    case "ipvsadm":
      try {
        applyTableCommands(engine, request.commands);
        return { refused: null } satisfies IpvsadmResult;
      } catch (err) {
        if (!(err instanceof IpvsadmUsageError)) throw err;
        return { refused: err.message, exitCode: err.exitCode } satisfies IpvsadmResult;
      }
    case "snapshot":
      return snapshotEngine(engine, pathCounters) satisfies EngineSnapshot;
    case "connections":
      return snapshotConnections(engine);
    case "timeouts":
      return snapshotTimeouts(engine);
    case "sysctl":
      if (request.set) writeSysctls(engine, request.set);
      return readSysctls(engine);
    case "links":
      engine.links.configure(request.links, request.hops);
      return null;
    case "tunnels":
      engine.tunnels.configure(request.hops);
      return null;
    case "natRoutes":
      engine.configureNatRoutes(request.routes);
      return null;
    case "fill":
      return fillTable(engine, request);
  }
}
