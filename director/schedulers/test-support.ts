import { RateEstimator } from "../service/rate-estimator.ts";
// Helpers for the scheduler tests: small services with named destinations.
import {
  type Destination,
  newDestination,
  newStats,
  type VirtualService,
} from "../service/types.ts";

export interface DestSpec {
  w?: number;
  active?: number;
  inactive?: number;
  overloaded?: boolean;
}

/** Destination i is 172.16.0.(i+2):80, so tests can name them A, B, C... by index. */
export function dests(specs: readonly DestSpec[]): Destination[] {
  return specs.map((s, i) =>
    newDestination({
      addr: (0xac100000 + i + 2) >>> 0,
      port: 80,
      weight: s.w ?? 1,
      activeConns: s.active ?? 0,
      inactiveConns: s.inactive ?? 0,
      overloaded: s.overloaded ?? false,
    })
  );
}

export function service(destinations: Destination[], flags: string[] = []): VirtualService {
  return {
    protocol: "tcp",
    addr: 0xcb007105, // 203.0.113.5
    port: 80,
    schedulerName: "test",
    schedulerFlags: flags,
    persistTimeout: 0,
    persistNetmask: 0xffffffff,
    destinations,
    stats: newStats(),
    estimator: new RateEstimator(),
  };
}

/** Letter of a destination in the list (A = first), or "-" for none. */
export function letter(svc: VirtualService, d: Destination | null): string {
  if (d === null) return "-";
  const i = svc.destinations.indexOf(d);
  return i < 0 ? "?" : String.fromCharCode(65 + i);
}

/** A small seeded PRNG (mulberry32) returning [0, 1). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const CLIENT = 0xc6336402; // 198.51.100.2
