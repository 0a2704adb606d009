// Weighted overflow (ip_vs_ovf.c): the highest-weight destination whose active
// connections do not exceed its weight (active <= weight, as the kernel compares);
// when it fills up, connections overflow to the next highest. Ties: first in list.
import type { Destination, Scheduler, VirtualService } from "../service/types.ts";

export class OverflowScheduler implements Scheduler {
  readonly name: string = "ovf";

  schedule(svc: VirtualService): Destination | null {
    let best: Destination | null = null;
    let hw = 0;
    for (const dest of svc.destinations) {
      const w = dest.weight;
      if (dest.overloaded || dest.activeConns > w || w === 0) continue;
      if (best === null || w > hw) {
        best = dest;
        hw = w;
      }
    }
    return best;
  }
}
