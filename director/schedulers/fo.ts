// Weighted fail-over (ip_vs_fo.c): the not-overloaded destination with the highest
// weight; ties go to the first in the list, weight 0 is never chosen.
import type { Destination, Scheduler, VirtualService } from "../service/types.ts";

export class FailOverScheduler implements Scheduler {
  readonly name: string = "fo";

  schedule(svc: VirtualService): Destination | null {
    let best: Destination | null = null;
    let hw = 0;
    for (const dest of svc.destinations) {
      if (!dest.overloaded && dest.weight > hw) {
        best = dest;
        hw = dest.weight;
      }
    }
    return best;
  }
}
