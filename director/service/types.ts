// The director's model of IPVS objects: virtual services and their real servers
// ("destinations" in the Linux source). Addresses are IPv4 as unsigned 32-bit numbers
// so the hot path never builds strings.

import { RateEstimator } from "./rate-estimator.ts";
import type { ForwardMethod } from "../forwarding/method-names.ts";
import { DEFAULT_TUNNEL, type TunnelOptions } from "./tunnel-options.ts";

export type Protocol = "tcp" | "udp";

export type { ForwardMethod } from "../forwarding/method-names.ts";

/** Counters kept per service, per real server and globally (ip_vs_stats). */
export interface Stats {
  conns: number;
  inpkts: number;
  outpkts: number;
  inbytes: number;
  outbytes: number;
}

export function newStats(): Stats {
  return { conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0 };
}

/** Destination.nextHop of a server not (yet) placed in the packet worker's link table. */
export const NO_NEXT_HOP = -1;

/** A real server of a virtual service (struct ip_vs_dest). */
export interface Destination {
  addr: number;
  port: number;
  weight: number;
  method: ForwardMethod;
  /** The encapsulation of a tunnel server (ipip for every other method, as IPVS keeps it). */
  tunnel: Readonly<TunnelOptions>;
  /**
   * DR: the server's next hop in the packet worker's link table (director/net/link-table.ts),
   * cached at its first frame; NO_NEXT_HOP until then (IPVS's dest_dst, the cached route).
   */
  nextHop: number;
  /** Upper connection threshold (-x); 0 means none. */
  upperThreshold: number;
  /** Lower connection threshold (-y); 0 means none. */
  lowerThreshold: number;
  /** Connections in ESTABLISHED (TCP) state. */
  activeConns: number;
  /** Connections in any other state. */
  inactiveConns: number;
  /** Persistence templates pointing at this server. */
  persistConns: number;
  /** IP_VS_DEST_F_OVERLOAD: set when the upper threshold is reached. */
  overloaded: boolean;
  /** IP_VS_DEST_F_AVAILABLE: cleared when the server is deleted from its service. */
  available: boolean;
  stats: Stats;
  /** 2-second moving averages of stats. */
  estimator: RateEstimator;
}

export function newDestination(
  init: Pick<Destination, "addr" | "port"> & Partial<Destination>,
): Destination {
  return {
    weight: 1,
    method: "masq",
    tunnel: DEFAULT_TUNNEL,
    nextHop: NO_NEXT_HOP,
    upperThreshold: 0,
    lowerThreshold: 0,
    activeConns: 0,
    inactiveConns: 0,
    persistConns: 0,
    overloaded: false,
    available: true,
    stats: newStats(),
    estimator: new RateEstimator(),
    ...init,
  };
}

/** A virtual service (struct ip_vs_service). */
export interface VirtualService {
  protocol: Protocol;
  addr: number;
  port: number;
  /** Scheduler name as ipvsadm spells it (rr, wrr, wlc, ...). */
  schedulerName: string;
  /** Scheduler flags (-b sh-fallback,sh-port,mh-fallback,mh-port). */
  schedulerFlags: string[];
  /** Persistence timeout in seconds; 0 means not persistent. */
  persistTimeout: number;
  /** Persistence netmask (-M), as a 32-bit mask. */
  persistNetmask: number;
  destinations: Destination[];
  stats: Stats;
  estimator: RateEstimator;
}

/**
 * A scheduler chooses a real server for a new connection (struct ip_vs_scheduler).
 * One instance per virtual service, so it may keep per-service state (rr's cursor,
 * wrr's current weight, sh's hash table).
 */
export interface Scheduler {
  readonly name: string;
  /**
   * Called after the service's destinations were added, edited or removed; only schedulers
   * that keep per-service state (rr, wrr, dh, sh, mh) have one. Callers use `update?.()`.
   */
  update?(svc: VirtualService): void;
  /**
   * Picks a destination for a new connection, or null when none is available.
   * Addresses are the packet's (client source, virtual destination).
   */
  schedule(
    svc: VirtualService,
    srcAddr: number,
    srcPort: number,
    dstAddr: number,
    dstPort: number,
  ): Destination | null;
}

/** IPVS's load figure for a destination: ip_vs_dest_conn_overhead(). */
export function connOverhead(dest: Destination): number {
  return dest.activeConns * 256 + dest.inactiveConns;
}

/**
 * IPVS's overload flag after a connection was bound to the destination (ip_vs_bind_dest):
 * set once the total reaches the upper threshold.
 */
export function markOverloadAfterBind(dest: Destination): void {
  if (dest.upperThreshold !== 0 && dest.activeConns + dest.inactiveConns >= dest.upperThreshold) {
    dest.overloaded = true;
  }
}

/**
 * ...and after one was unbound (ip_vs_unbind_dest): cleared below the lower threshold, or
 * without one below 3/4 of the upper threshold.
 */
export function clearOverloadAfterUnbind(dest: Destination): void {
  const total = dest.activeConns + dest.inactiveConns;
  if (dest.lowerThreshold !== 0) {
    if (total < dest.lowerThreshold) dest.overloaded = false;
  } else if (dest.upperThreshold !== 0) {
    if (total * 4 < dest.upperThreshold * 3) dest.overloaded = false;
  } else {
    dest.overloaded = false;
  }
}

/** A destination can take new connections when it has weight and is not overloaded. */
export function acceptsNewConnections(dest: Destination): boolean {
  return dest.weight > 0 && !dest.overloaded && dest.available;
}
