// Shortest expected delay (ip_vs_sed.c): like wlc, but the load is (active + 1) / weight,
// counting the incoming job and ignoring inactive connections.
import type { Destination, Scheduler, VirtualService } from "../service/types.ts";

export class ShortestExpectedDelayScheduler implements Scheduler {
  readonly name: string = "sed";

  schedule(svc: VirtualService): Destination | null {
    const dests = svc.destinations;
    const n = dests.length;
    let i = 0;
    while (i < n && (dests[i].overloaded || dests[i].weight <= 0)) i++;
    if (i === n) return null;
    let least = dests[i];
    let loh = least.activeConns + 1;
    for (i++; i < n; i++) {
      const dest = dests[i];
      if (dest.overloaded) continue;
      const doh = dest.activeConns + 1;
      if (loh * dest.weight > doh * least.weight) {
        least = dest;
        loh = doh;
      }
    }
    return least;
  }
}
