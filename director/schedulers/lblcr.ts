// Locality-based least-connection with replication (ip_vs_lblcr.c): each packet
// destination address keeps a *set* of servers; the least loaded (wlc) member serves it.
// When that member is missing or overloaded (lblc's sense), wlc over all servers picks one
// and it joins the set. A set unchanged for the expiration time loses its most loaded
// member on the next lookup, so replication shrinks back.
//
// Expiry: call expire(nowMs) periodically; it acts once a minute, as the kernel's timer.
import { connOverhead, type Destination, type Scheduler } from "../service/types.ts";
import type { VirtualService } from "../service/types.ts";
import { DEFAULT_EXPIRATION_MS, type LocalityEntry, LocalityExpiry } from "./expiry.ts";
import { type LocalityOptions, localityOverloaded } from "./lblc.ts";
import { weightedLeastConnection } from "./wlc.ts";

interface LblcrEntry extends LocalityEntry {
  /** The server set, newest first (the kernel adds at the list head). */
  set: Destination[];
  lastmod: number;
}

/** ip_vs_dest_set_min: least overhead/weight among available, unloaded members. */
function setMin(set: readonly Destination[]): Destination | null {
  const n = set.length;
  let i = 0;
  while (i < n && (set[i].overloaded || set[i].weight <= 0 || !set[i].available)) i++;
  if (i === n) return null;
  let least = set[i];
  let loh = connOverhead(least);
  for (i++; i < n; i++) {
    const dest = set[i];
    if (dest.overloaded) continue;
    const doh = connOverhead(dest);
    if (loh * dest.weight > doh * least.weight && dest.available) {
      least = dest;
      loh = doh;
    }
  }
  return least;
}

/** ip_vs_dest_set_max: most overhead/weight among members with weight. */
function setMax(set: readonly Destination[]): Destination | null {
  const n = set.length;
  let i = 0;
  while (i < n && set[i].weight <= 0) i++;
  if (i === n) return null;
  let most = set[i];
  let moh = connOverhead(most);
  for (i++; i < n; i++) {
    const dest = set[i];
    const doh = connOverhead(dest);
    if (moh * dest.weight < doh * most.weight && dest.weight > 0) {
      most = dest;
      moh = doh;
    }
  }
  return most;
}

export class LocalityLeastConnectionReplicationScheduler implements Scheduler {
  readonly name: string = "lblcr";
  private readonly now: () => number;
  private readonly expirationMs: number;
  private readonly table = new Map<number, LblcrEntry>();
  private readonly expiry: LocalityExpiry;

  constructor(options: LocalityOptions = {}) {
    this.now = options.now ?? Date.now;
    this.expirationMs = options.expirationMs ?? DEFAULT_EXPIRATION_MS;
    this.expiry = new LocalityExpiry(this.now(), this.expirationMs);
  }

  /** Number of destination addresses in the table. */
  get size(): number {
    return this.table.size;
  }

  /** The server set of an address, newest first (inspection, tests). */
  serverSet(dstAddr: number): readonly Destination[] | undefined {
    return this.table.get(dstAddr >>> 0)?.set;
  }

  // No add/del/upd hooks in the kernel either: sets keep removed servers until expiry.
  /** Periodic garbage collection; call it often, it runs once per minute of nowMs. */
  expire(nowMs: number = this.now()): void {
    this.expiry.run(this.table, nowMs);
  }

  schedule(
    svc: VirtualService,
    _srcAddr: number,
    _srcPort: number,
    dstAddr: number,
    _dstPort: number,
  ): Destination | null {
    const key = dstAddr >>> 0;
    const now = this.now();
    const en = this.table.get(key);
    if (en === undefined) {
      const dest = weightedLeastConnection(svc.destinations);
      if (dest === null) return null;
      this.table.set(key, { set: [dest], lastuse: now, lastmod: now });
      return dest;
    }

    en.lastuse = now;
    let dest = setMin(en.set);
    // More than one server and the set unchanged for long enough: drop the busiest.
    if (en.set.length > 1 && now > en.lastmod + this.expirationMs) {
      const m = setMax(en.set);
      if (m !== null) {
        en.set.splice(en.set.indexOf(m), 1);
        en.lastmod = now;
      }
    }
    if (dest !== null && !localityOverloaded(dest, svc)) return dest;

    dest = weightedLeastConnection(svc.destinations);
    if (dest === null) return null;
    if (!en.set.includes(dest)) {
      en.set.unshift(dest);
      en.lastmod = now;
    }
    return dest;
  }
}
