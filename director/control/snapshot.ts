// A plain-data picture of the engine for the control path: services, real servers,
// counters and drops. Built on request, never on the packet path.
import type { DirectorEngine } from "../engine/engine.ts";
import type { Destination, Stats, VirtualService } from "../service/types.ts";

export interface DestinationSnapshot {
  addr: number;
  port: number;
  weight: number;
  method: Destination["method"];
  upperThreshold: number;
  lowerThreshold: number;
  activeConns: number;
  inactiveConns: number;
  persistConns: number;
  stats: Stats;
}

export interface ServiceSnapshot {
  protocol: VirtualService["protocol"];
  addr: number;
  port: number;
  schedulerName: string;
  schedulerFlags: string[];
  persistTimeout: number;
  persistNetmask: number;
  stats: Stats;
  destinations: DestinationSnapshot[];
}

export interface EngineSnapshot {
  services: ServiceSnapshot[];
  connections: number;
  maxConnections: number;
  drops: Record<string, number>;
  writeErrors: number;
}

export function snapshotEngine(engine: DirectorEngine, writeErrors: number): EngineSnapshot {
  return {
    services: engine.services.entries.map(({ service }) => ({
      protocol: service.protocol,
      addr: service.addr,
      port: service.port,
      schedulerName: service.schedulerName,
      schedulerFlags: [...service.schedulerFlags],
      persistTimeout: service.persistTimeout,
      persistNetmask: service.persistNetmask,
      stats: { ...service.stats },
      destinations: service.destinations.map((d) => ({
        addr: d.addr,
        port: d.port,
        weight: d.weight,
        method: d.method,
        upperThreshold: d.upperThreshold,
        lowerThreshold: d.lowerThreshold,
        activeConns: d.activeConns,
        inactiveConns: d.inactiveConns,
        persistConns: d.persistConns,
        stats: { ...d.stats },
      })),
    })),
    connections: engine.conns.size,
    maxConnections: engine.conns.capacity,
    drops: engine.drops.toJSON(),
    writeErrors,
  };
}
