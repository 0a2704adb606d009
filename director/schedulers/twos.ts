// Power of two choices (ip_vs_twos.c): two weighted-random picks among destinations with
// weight and not overloaded; the second wins only if its overhead/weight is strictly lower.
import { connOverhead, type Destination, type Scheduler } from "../service/types.ts";
import type { VirtualService } from "../service/types.ts";

/** A uniform random number in [0, 1), like Math.random. */
export type RandomSource = () => number;

export class TwoChoicesScheduler implements Scheduler {
  readonly name: string = "twos";
  private readonly random: RandomSource;

  constructor(random: RandomSource = Math.random) {
    this.random = random;
  }

  // The kernel's prandom_u32().
  private randomU32(): number {
    return Math.floor(this.random() * 4294967296) >>> 0;
  }

  schedule(svc: VirtualService): Destination | null {
    const dests = svc.destinations;
    let total = 0;
    let any = false;
    for (const dest of dests) {
      if (!dest.overloaded && dest.weight > 0) {
        total += dest.weight;
        any = true;
      }
    }
    if (!any) return null;
    // Random weights in [0, total] inclusive, as the kernel draws them.
    total += 1;
    let r1 = this.randomU32() % total;
    let r2 = this.randomU32() % total;

    let choice1: Destination | null = null;
    let choice2: Destination | null = null;
    let w1 = -1;
    let w2 = -1;
    let oh1 = 0;
    let oh2 = 0;
    for (const dest of dests) {
      if (dest.overloaded || dest.weight <= 0) continue;
      r1 -= dest.weight;
      r2 -= dest.weight;
      if (r1 <= 0 && w1 === -1) {
        choice1 = dest;
        w1 = dest.weight;
        oh1 = connOverhead(dest);
      }
      if (r2 <= 0 && w2 === -1) {
        choice2 = dest;
        w2 = dest.weight;
        oh2 = connOverhead(dest);
      }
      if (w1 !== -1 && w2 !== -1) break;
    }
    if (choice2 !== null && w2 * oh1 > w1 * oh2) return choice2;
    return choice1;
  }
}
