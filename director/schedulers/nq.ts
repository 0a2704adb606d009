// Never queue (ip_vs_nq.c): the first idle destination (no active connections) if any,
// otherwise sed's choice, the lowest (active + 1) / weight.
import type { Destination, Scheduler, VirtualService } from "../service/types.ts";

export class NeverQueueScheduler implements Scheduler {
  readonly name: string = "nq";

  schedule(svc: VirtualService): Destination | null {
    let least: Destination | null = null;
    let loh = 0;
    for (const dest of svc.destinations) {
      if (dest.overloaded || dest.weight === 0) continue;
      if (dest.activeConns === 0) return dest;
      const doh = dest.activeConns + 1;
      if (least === null || loh * dest.weight > doh * least.weight) {
        least = dest;
        loh = doh;
      }
    }
    return least;
  }
}
