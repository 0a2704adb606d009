// Scheduler flags (ipvsadm -b). The kernel has three generic bits; sh and mh give the
// first two their meaning, so "sh-port" and "mh-port" are the same bit, as in ipvsadm.

export const SCHED_FLAG_1 = 1; // sh-fallback, mh-fallback
export const SCHED_FLAG_2 = 2; // sh-port, mh-port
export const SCHED_FLAG_3 = 4;

const FLAG_BITS: Record<string, number> = {
  "flag-1": SCHED_FLAG_1,
  "flag-2": SCHED_FLAG_2,
  "flag-3": SCHED_FLAG_3,
  "sh-fallback": SCHED_FLAG_1,
  "sh-port": SCHED_FLAG_2,
  "mh-fallback": SCHED_FLAG_1,
  "mh-port": SCHED_FLAG_2,
};

export const SCHEDULER_FLAG_NAMES: readonly string[] = Object.keys(FLAG_BITS);

/** Turns flag names into the kernel's bit set; throws on a name ipvsadm would not accept. */
export function parseSchedulerFlags(flags: readonly string[]): number {
  let bits = 0;
  for (const flag of flags) {
    const bit = FLAG_BITS[flag];
    if (bit === undefined) {
      throw new Error(
        `unknown scheduler flag '${flag}': use one of ${SCHEDULER_FLAG_NAMES.join(", ")}`,
      );
    }
    bits |= bit;
  }
  return bits;
}
