// Scheduler flags (ipvsadm -b). The kernel has three generic bits; sh and mh give the
// first two their meaning, so "sh-port" and "mh-port" are the same bit, as in ipvsadm.
// The one table of names and bits, for the schedulers, the config file and ipvsadm.

export const SCHED_FLAG_1 = 1; // sh-fallback, mh-fallback
export const SCHED_FLAG_2 = 2; // sh-port, mh-port
export const SCHED_FLAG_3 = 4;

/** Every flag name ipvsadm accepts, with its bit (IP_VS_SVC_F_SCHED1..3). */
export const SCHED_FLAG_BITS: Readonly<Record<string, number>> = Object.freeze({
  "flag-1": SCHED_FLAG_1,
  "flag-2": SCHED_FLAG_2,
  "flag-3": SCHED_FLAG_3,
  "sh-fallback": SCHED_FLAG_1,
  "sh-port": SCHED_FLAG_2,
  "mh-fallback": SCHED_FLAG_1,
  "mh-port": SCHED_FLAG_2,
});

export const SCHEDULER_FLAG_NAMES: readonly string[] = Object.keys(SCHED_FLAG_BITS);

/** The schedulers that name the first two bits themselves. */
const OWN_FLAG_NAMES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  sh: ["sh-fallback", "sh-port"],
  mh: ["mh-fallback", "mh-port"],
});

/** Turns flag names into the kernel's bit set; throws on a name ipvsadm would not accept. */
export function parseSchedulerFlags(flags: readonly string[]): number {
  let bits = 0;
  for (const flag of flags) {
    const bit = SCHED_FLAG_BITS[flag];
    if (bit === undefined) {
      throw new Error(
        `unknown scheduler flag '${flag}': use one of ${SCHEDULER_FLAG_NAMES.join(", ")}`,
      );
    }
    bits |= bit;
  }
  return bits;
}

/** Bits of flag names, ignoring names it does not know (for listings of stored names). */
export function schedulerFlagBits(flags: readonly string[]): number {
  return flags.reduce((bits, f) => bits | (SCHED_FLAG_BITS[f] ?? 0), 0);
}

/** The scheduler a flag name belongs to ("sh" for sh-port), or null for flag-N. */
export function schedulerFlagOwner(flag: string): string | null {
  for (const [scheduler, names] of Object.entries(OWN_FLAG_NAMES)) {
    if (names.includes(flag)) return scheduler;
  }
  return null;
}

/** Flag bits as names for `scheduler`, in the order ipvsadm saves them (flag-3 included). */
export function schedulerFlagNames(scheduler: string, bits: number): string[] {
  const own = OWN_FLAG_NAMES[scheduler];
  const names = own === undefined ? ["flag-1", "flag-2", "flag-3"] : [...own, "flag-3"];
  return names.filter((_, i) => (bits & (1 << i)) !== 0);
}

/** print_sched_flags(): sh and mh print their two named bits only; others print flag-N. */
export function printedSchedulerFlagNames(scheduler: string, bits: number): string[] {
  const named = OWN_FLAG_NAMES[scheduler] === undefined ? bits : bits & ~SCHED_FLAG_3;
  return schedulerFlagNames(scheduler, named);
}
