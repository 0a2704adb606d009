// The scheduler registry: ipvsadm's scheduler names → implementations, one file per
// scheduler (as the kernel's ip_vs_<name>.c, each registered with register_ip_vs_scheduler).
// To add one: a file here implementing Scheduler (director/service/types.ts; `update` only if
// it keeps per-service state) and one line in the SCHEDULERS table below.
import type { Scheduler } from "../service/types.ts";
import { DestinationHashingScheduler } from "./dh.ts";
import { FailOverScheduler } from "./fo.ts";
import { LocalityLeastConnectionScheduler } from "./lblc.ts";
import { LocalityLeastConnectionReplicationScheduler } from "./lblcr.ts";
import { LeastConnectionScheduler } from "./lc.ts";
import { MaglevHashingScheduler } from "./mh.ts";
import { NeverQueueScheduler } from "./nq.ts";
import { OverflowScheduler } from "./ovf.ts";
import { RoundRobinScheduler } from "./rr.ts";
import { ShortestExpectedDelayScheduler } from "./sed.ts";
import { SourceHashingScheduler } from "./sh.ts";
import { TwoChoicesScheduler } from "./twos.ts";
import { WeightedLeastConnectionScheduler } from "./wlc.ts";
import { WeightedRoundRobinScheduler } from "./wrr.ts";

import { parseSchedulerFlags } from "./flags.ts";

export { CHECK_EXPIRE_INTERVAL_MS } from "./expiry.ts";
export { parseSchedulerFlags, SCHEDULER_FLAG_NAMES } from "./flags.ts";

/** IPVS's default scheduler (ipvsadm without -s). */
export const DEFAULT_SCHEDULER = "wlc";

/** Test and tuning hooks; the engine needs none of them. */
export interface SchedulerOptions {
  /** Clock in ms for lblc/lblcr (default Date.now). */
  now?: () => number;
  /** lblc_expiration / lblcr_expiration in ms (default 24 h). */
  expirationMs?: number;
  /** Uniform [0, 1) source for twos (default Math.random). */
  random?: () => number;
  /** CONFIG_IP_VS_MH_TAB_INDEX for mh, 8..17 (default 12: 4093 slots; 8: 251). */
  mhTableIndex?: number;
}

/** A scheduler with periodic table expiry (lblc, lblcr): call expire() from a timer. */
export interface ExpiringScheduler extends Scheduler {
  /** Garbage-collects stale entries; acts at most once per CHECK_EXPIRE_INTERVAL_MS. */
  expire(nowMs?: number): void;
}

export function isExpiringScheduler(s: Scheduler): s is ExpiringScheduler {
  return typeof (s as Partial<ExpiringScheduler>).expire === "function";
}

/** How one scheduler is made from its -b flags and the test hooks. */
type SchedulerConstructor = (flags: readonly string[], options: SchedulerOptions) => Scheduler;

/**
 * THE table: ipvsadm's scheduler names (-s), in ipvsadm's order, each with how it is made.
 * A new scheduler is one file here and one line in this table.
 */
const SCHEDULERS: Readonly<Record<string, SchedulerConstructor>> = {
  rr: () => new RoundRobinScheduler(),
  wrr: () => new WeightedRoundRobinScheduler(),
  lc: () => new LeastConnectionScheduler(),
  wlc: () => new WeightedLeastConnectionScheduler(),
  lblc: (_, o) => new LocalityLeastConnectionScheduler(o),
  lblcr: (_, o) => new LocalityLeastConnectionReplicationScheduler(o),
  dh: () => new DestinationHashingScheduler(),
  sh: (flags) => new SourceHashingScheduler(flags),
  sed: () => new ShortestExpectedDelayScheduler(),
  nq: () => new NeverQueueScheduler(),
  fo: () => new FailOverScheduler(),
  ovf: () => new OverflowScheduler(),
  mh: (flags, o) => new MaglevHashingScheduler(flags, { tableIndex: o.mhTableIndex }),
  twos: (_, o) => new TwoChoicesScheduler(o.random),
};

/** Scheduler names as ipvsadm spells them (-s). */
export const SCHEDULER_NAMES: readonly string[] = Object.keys(SCHEDULERS);

export function isSchedulerName(name: string): boolean {
  return Object.hasOwn(SCHEDULERS, name);
}

/** Makes the scheduler ipvsadm calls `name`; throws on unknown names and flags. */
export function createScheduler(
  name: string,
  flags: readonly string[] = [],
  options: SchedulerOptions = {},
): Scheduler {
  if (!isSchedulerName(name)) {
    throw new Error(`unknown scheduler '${name}': use one of ${SCHEDULER_NAMES.join(", ")}`);
  }
  parseSchedulerFlags(flags); // reject misspelt flags for every scheduler, as ipvsadm does
  return SCHEDULERS[name](flags, options);
}
