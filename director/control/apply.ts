// Control requests as the packet worker applies them to its engine. The worker owns the
// service and connection tables (they live where the packets are), so every run-time change
// arrives here as a message and is applied between two packets.
import type { DirectorEngine } from "../engine/engine.ts";
import type { DestinationSpec, ServiceSpec } from "../service/service-table.ts";
import type { Protocol } from "../service/types.ts";
import { type EngineSnapshot, snapshotEngine } from "./snapshot.ts";

export interface ServiceKey {
  protocol: Protocol;
  addr: number;
  port: number;
}

export type ControlRequest =
  | { id: number; op: "add-service"; service: ServiceSpec }
  | { id: number; op: "add-destination"; service: ServiceKey; destination: DestinationSpec }
  | { id: number; op: "snapshot" };

/** Every answer carries the virtual addresses in use, so the host's routes follow the table. */
export const CONTROL_OPS: readonly ControlRequest["op"][] = [
  "add-service",
  "add-destination",
  "snapshot",
];

export type ControlResponse =
  | { id: number; ok: true; result: unknown; vips: number[] }
  | { id: number; ok: false; error: string; vips: number[] };

export function applyControl(
  engine: DirectorEngine,
  request: ControlRequest,
  writeErrors: number,
): unknown {
  switch (request.op) {
    case "add-service":
      engine.services.addService(request.service);
      return null;
    case "add-destination": {
      const { protocol, addr, port } = request.service;
      engine.services.addDestination(protocol, addr, port, request.destination);
      return null;
    }
    case "snapshot":
      return snapshotEngine(engine, writeErrors) satisfies EngineSnapshot;
  }
}
