// Several rounds of every peer, folded into one value per metric and peer: the median, so one
// round disturbed by the machine's neighbours does not decide a ratio.
import type { Measurement } from "./types.ts";

/** One value per metric and peer: the median of the rounds' values (null when none had one). */
export function medianOfRounds(rounds: Measurement[][]): Measurement[] {
  if (rounds.length === 1) return rounds[0];
  return rounds[0].map((first) => {
    const samples = rounds.map((r) =>
      r.find((m) => m.metric === first.metric && m.peer === first.peer)?.value ?? null
    );
    const present = samples.filter((v): v is number => v !== null).sort((a, b) => a - b);
    const mid = present.length >> 1;
    const value = present.length === 0
      ? null
      : present.length % 2 === 1
      ? present[mid]
      : (present[mid - 1] + present[mid]) / 2;
    return { ...first, value, samples };
  });
}
