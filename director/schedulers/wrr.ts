// Weighted round-robin (ip_vs_wrr.c). Passes over the list with a falling current
// weight cw: the first pass takes destinations with weight >= mw, each next pass lowers
// cw by di (the gcd of the weights), the last pass takes weight >= 1. mw is the highest
// weight less (di - 1), so the last pass is at cw = 1 even for weights below di.
import type { Destination, Scheduler, VirtualService } from "../service/types.ts";
import { gcd } from "./hash.ts";

export class WeightedRoundRobinScheduler implements Scheduler {
  readonly name: string = "wrr";
  /** Index of the current destination; -1 is the list head. */
  private cl = -1;
  /** Current weight. */
  private cw = 0;
  /** Maximum weight less (di - 1). */
  private mw = 0;
  /** Decreasing interval: gcd of the positive weights (1 when none). */
  private di = 1;

  /** ip_vs_wrr_dest_changed (init_svc is the same with cw starting at 0). */
  update(svc: VirtualService): void {
    let g = 0;
    let max = 0;
    for (const dest of svc.destinations) {
      if (dest.weight > 0) g = g > 0 ? gcd(dest.weight, g) : dest.weight;
      if (dest.weight > max) max = dest.weight;
    }
    this.cl = -1;
    this.di = g > 0 ? g : 1;
    this.mw = max - (this.di - 1);
    if (this.cw > this.mw || this.cw === 0) this.cw = this.mw;
    else if (this.di > 1) this.cw = Math.trunc(this.cw / this.di) * this.di + 1;
  }

  schedule(svc: VirtualService): Destination | null {
    const dests = svc.destinations;
    const n = dests.length;
    if (this.cl >= n) this.cl = -1; // list shrank without update(): start over
    if (this.mw === 0) return null; // no destination has weight
    const last = this.cl;
    let i = last;
    let stop = -2; // no stop entry yet
    let lastPass = false;
    let restarted = false;
    // Ends within mw/di + 1 passes: after cw wraps to mw, the pass at cw <= di stops at `last`.
    for (;;) {
      for (i = i + 1; i < n; i++) {
        const dest = dests[i];
        if (!dest.overloaded && dest.weight >= this.cw) {
          this.cl = i;
          return dest;
        }
        if (i === stop) {
          this.cl = i;
          return null;
        }
      }
      i = -1; // at the head
      this.cw -= this.di;
      if (this.cw <= 0) {
        this.cw = this.mw;
        // Every destination was already checked for weight >= 1.
        if (lastPass || last === -1) {
          this.cl = -1;
          return null;
        }
        restarted = true;
      }
      lastPass = this.cw <= this.di;
      // The first traversal at w >= 1 only covered entries after `last`; now cover the rest.
      if (lastPass && restarted && last !== -1) stop = last;
    }
  }
}
