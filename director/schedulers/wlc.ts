// Weighted least-connection (ip_vs_wlc.c), IPVS's default: the lowest overhead/weight,
// compared as loh * dw > doh * lw (no division). The first candidate must have weight;
// later ones are only skipped when overloaded, and weight 0 can never win the comparison.
import { connOverhead, type Destination, type Scheduler } from "../service/types.ts";
import type { VirtualService } from "../service/types.ts";

/** The wlc choice over a list; lblc and lblcr use it for their fresh picks too. */
export function weightedLeastConnection(dests: readonly Destination[]): Destination | null {
  const n = dests.length;
  let i = 0;
  while (i < n && (dests[i].overloaded || dests[i].weight <= 0)) i++;
  if (i === n) return null;
  let least = dests[i];
  let loh = connOverhead(least);
  for (i++; i < n; i++) {
    const dest = dests[i];
    if (dest.overloaded) continue;
    const doh = connOverhead(dest);
    if (loh * dest.weight > doh * least.weight) {
      least = dest;
      loh = doh;
    }
  }
  return least;
}

export class WeightedLeastConnectionScheduler implements Scheduler {
  readonly name: string = "wlc";

  schedule(svc: VirtualService): Destination | null {
    return weightedLeastConnection(svc.destinations);
  }
}
