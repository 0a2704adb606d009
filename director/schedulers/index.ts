// The scheduler registry: ipvsadm's scheduler names → implementations.
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

/** Scheduler names as ipvsadm spells them (-s). */
export const SCHEDULER_NAMES: readonly string[] = [
  "rr",
  "wrr",
  "lc",
  "wlc",
  "lblc",
  "lblcr",
  "dh",
  "sh",
  "sed",
  "nq",
  "fo",
  "ovf",
  "mh",
  "twos",
];

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

export function isSchedulerName(name: string): boolean {
  return SCHEDULER_NAMES.includes(name);
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
  switch (name) {
    case "rr":
      return new RoundRobinScheduler();
    case "wrr":
      return new WeightedRoundRobinScheduler();
    case "lc":
      return new LeastConnectionScheduler();
    case "wlc":
      return new WeightedLeastConnectionScheduler();
    case "sed":
      return new ShortestExpectedDelayScheduler();
    case "nq":
      return new NeverQueueScheduler();
    case "lblc":
      return new LocalityLeastConnectionScheduler(options);
    case "lblcr":
      return new LocalityLeastConnectionReplicationScheduler(options);
    case "dh":
      return new DestinationHashingScheduler();
    case "sh":
      return new SourceHashingScheduler(flags);
    case "mh":
      return new MaglevHashingScheduler(flags, { tableIndex: options.mhTableIndex });
    case "fo":
      return new FailOverScheduler();
    case "ovf":
      return new OverflowScheduler();
    case "twos":
      return new TwoChoicesScheduler(options.random);
    default:
      throw new Error(
        `unknown scheduler '${name}': use one of ${SCHEDULER_NAMES.join(", ")}`,
      );
  }
}
