// Locality-based least-connection (ip_vs_lblc.c), for cache clusters: each packet
// destination address keeps the server it was last given. The server is kept while it is
// available, has weight, and is not "overloaded" in lblc's sense (more active connections
// than its weight while some server is under half its weight); otherwise wlc picks anew.
//
// Expiry: call expire(nowMs) periodically (the engine's tick); it acts once a minute, as
// the kernel's timer does. The clock for lastuse comes from options.now (ms).
import type { Destination, Scheduler, VirtualService } from "../service/types.ts";
import { DEFAULT_EXPIRATION_MS, type LocalityEntry, LocalityExpiry } from "./expiry.ts";
import { weightedLeastConnection } from "./wlc.ts";

export interface LocalityOptions {
  /** Clock in milliseconds; default Date.now. */
  now?: () => number;
  /** sysctl lblc_expiration / lblcr_expiration in ms; default 24 h. */
  expirationMs?: number;
}

interface LblcEntry extends LocalityEntry {
  dest: Destination;
}

/** lblc's is_overloaded(): busier than its weight while another server is under half. */
export function localityOverloaded(dest: Destination, svc: VirtualService): boolean {
  if (dest.activeConns > dest.weight) {
    for (const d of svc.destinations) {
      if (d.activeConns * 2 < d.weight) return true;
    }
  }
  return false;
}

export class LocalityLeastConnectionScheduler implements Scheduler {
  readonly name: string = "lblc";
  private readonly now: () => number;
  private readonly table = new Map<number, LblcEntry>();
  private readonly expiry: LocalityExpiry;

  constructor(options: LocalityOptions = {}) {
    this.now = options.now ?? Date.now;
    this.expiry = new LocalityExpiry(this.now(), options.expirationMs ?? DEFAULT_EXPIRATION_MS);
  }

  /** Number of destination addresses in the table. */
  get size(): number {
    return this.table.size;
  }

  /** The server an address is mapped to, if any (inspection, tests). */
  lookup(dstAddr: number): Destination | undefined {
    return this.table.get(dstAddr >>> 0)?.dest;
  }

  // The kernel's lblc has no add/del/upd hooks: entries keep (possibly removed) servers.
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
    if (en !== undefined) {
      en.lastuse = now;
      const dest = en.dest;
      if (dest.available && dest.weight > 0 && !localityOverloaded(dest, svc)) return dest;
    }
    const dest = weightedLeastConnection(svc.destinations);
    if (dest === null) return null;
    if (en === undefined) this.table.set(key, { dest, lastuse: now });
    else if (en.dest !== dest) {
      // ip_vs_lblc_new replaces the entry: a fresh one, with lastuse now.
      en.dest = dest;
      en.lastuse = now;
    }
    return dest;
  }
}
