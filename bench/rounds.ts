// Several rounds of every peer, folded into one value per metric and peer: the median, so one
// round disturbed by the machine's neighbours does not decide a ratio.
import type { Measurement } from "./types.ts";

/** The median of the values that are there (null when none is). */
export function median(values: (number | null | undefined)[]): number | null {
  const present = values.filter((v): v is number => v !== null && v !== undefined)
    .sort((a, b) => a - b);
  const mid = present.length >> 1;
  if (present.length === 0) return null;
  return present.length % 2 === 1 ? present[mid] : (present[mid - 1] + present[mid]) / 2;
}

/** One value per metric and peer: the median of the rounds' values (null when none had one). */
export function medianOfRounds(rounds: Measurement[][]): Measurement[] {
  if (rounds.length === 1) return rounds[0];
  return rounds[0].map((first) => {
    const samples = rounds.map((r) =>
      r.find((m) => m.metric === first.metric && m.peer === first.peer)?.value ?? null
    );
    return { ...first, value: median(samples), samples };
  });
}
