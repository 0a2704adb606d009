// What `npm run bench -- --scaling` measures: the points of each dimension (entries already in
// the table, real servers of the one service, services on the VIP), the engine-alone table
// sizes, and the director's service table at each point (pure, for the unit test).
import { HTTP_PORT, RS1, RS2, VIP } from "../config.ts";

export type ScalingDimension = "table" | "servers" | "services";

/** Synthetic ESTABLISHED entries put in the table before the load (director's fill request). */
export const TABLE_SIZES = [0, 100_000, 1_000_000];
/** Real servers of the measured service. */
export const SERVER_COUNTS = [2, 16, 64];
/** Services on the VIP; the load goes to one of them (VIP:80, the last one added). */
export const SERVICE_COUNTS = [1, 100, 1000];
/** Connection-table sizes of the engine-alone memory measurement. */
export const MEMORY_SIZES = [1_000_000, 4_000_000];
/**
 * The scheduler of every service: IPVS's default, wlc, which looks at every real server of
 * the service for each new connection (rr, the main bench's, does not).
 */
export const SCALING_SCHEDULER = "wlc";
/**
 * Room for the largest fill and the load's own entries, which stay in TIME_WAIT for 2 minutes
 * (the default, 1,048,576, would be full at a million).
 */
export const SCALING_MAX_CONNECTIONS = 2_097_152;
/** Ports of the real servers beyond the first pair: rs1 and rs2 each listen on all of them. */
const FIRST_EXTRA_PORT = 8001;
/** Ports of the services beyond the measured one. */
const FIRST_EXTRA_SERVICE_PORT = 10_001;

export interface ScalingPointPlan {
  dimension: ScalingDimension;
  /** The value of the dimension at this point. */
  at: number;
  servers: number;
  services: number;
  /** Synthetic entries to fill before the load. */
  fill: number;
}

/** Every point, dimension by dimension; each dimension varies alone from 2 servers, 1 service, 0 entries. */
export function scalingPoints(): ScalingPointPlan[] {
  const base = { servers: 2, services: 1, fill: 0 };
  return [
    ...TABLE_SIZES.map((at) => ({ ...base, dimension: "table" as const, at, fill: at })),
    ...SERVER_COUNTS.map((at) => ({ ...base, dimension: "servers" as const, at, servers: at })),
    ...SERVICE_COUNTS.map((at) => ({ ...base, dimension: "services" as const, at, services: at })),
  ];
}

/** Real server i: pairs over rs1 and rs2, the first pair on the HTTP port, then 8001, 8002… */
export function realServer(i: number): { address: string; port: number } {
  const pair = Math.floor(i / 2);
  return {
    address: i % 2 === 0 ? RS1 : RS2,
    port: pair === 0 ? HTTP_PORT : FIRST_EXTRA_PORT + pair - 1,
  };
}

/** The ports nginx must listen on, beyond the HTTP port, for `servers` real servers. */
export function extraServerPorts(servers: number): number[] {
  const ports = new Set<number>();
  for (let i = 0; i < servers; i++) ports.add(realServer(i).port);
  ports.delete(HTTP_PORT);
  return [...ports].sort((a, b) => a - b);
}

function serviceYaml(port: number, servers: number): string {
  const list = Array.from({ length: servers }, (_, i) => realServer(i))
    .map((s) => `{ address: ${s.address}, port: ${s.port} }`);
  return `  - protocol: tcp
    address: ${VIP}
    port: ${port}
    scheduler: ${SCALING_SCHEDULER}
    servers: [${list.join(", ")}]
`;
}

/** The director's config at a point: the extra services first, the measured VIP:80 last. */
export function scalingConfig(point: Pick<ScalingPointPlan, "servers" | "services">): string {
  const extra = Array.from(
    { length: point.services - 1 },
    (_, k) => serviceYaml(FIRST_EXTRA_SERVICE_PORT + k, 2),
  );
  return `maxConnections: ${SCALING_MAX_CONNECTIONS}
services:
${extra.join("")}${serviceYaml(HTTP_PORT, point.servers)}`;
}
