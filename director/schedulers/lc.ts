// Least-connection (ip_vs_lc.c): the lowest overhead (active*256 + inactive) among
// destinations with weight and not overloaded; ties go to the first in the list.
import { connOverhead, type Destination, type Scheduler } from "../service/types.ts";
import type { VirtualService } from "../service/types.ts";

export class LeastConnectionScheduler implements Scheduler {
  readonly name: string = "lc";

  schedule(svc: VirtualService): Destination | null {
    let least: Destination | null = null;
    let loh = 0;
    for (const dest of svc.destinations) {
      if (dest.overloaded || dest.weight === 0) continue;
      const doh = connOverhead(dest);
      if (least === null || doh < loh) {
        least = dest;
        loh = doh;
      }
    }
    return least;
  }
}
