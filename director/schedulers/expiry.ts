// The periodic garbage collection lblc and lblcr share (ip_vs_lblc_check_expire): every
// CHECK_EXPIRE_INTERVAL_MS; every 30th run drops entries unused for the expiration time
// (a day by default); in between, when the table holds more than max_size entries, it drops
// entries unused for ENTRY_TIMEOUT_MS until the excess (plus a third) is gone.

export const CHECK_EXPIRE_INTERVAL_MS = 60_000;
export const ENTRY_TIMEOUT_MS = 6 * 60_000;
/** sysctl lblc_expiration / lblcr_expiration default: 24 hours. */
export const DEFAULT_EXPIRATION_MS = 24 * 60 * 60_000;
const COUNT_FOR_FULL_EXPIRATION = 30;
/** IP_VS_LBLC_TAB_SIZE * 16. */
export const LOCALITY_TABLE_MAX_SIZE = 1024 * 16;

export interface LocalityEntry {
  lastuse: number;
}

/** Expiry state for a Map of locality entries, run on the kernel's one-minute beat. */
export class LocalityExpiry {
  private nextCheck: number;
  private counter = 1;

  constructor(
    startMs: number,
    private readonly expirationMs: number,
    private readonly maxSize: number = LOCALITY_TABLE_MAX_SIZE,
  ) {
    this.nextCheck = startMs + CHECK_EXPIRE_INTERVAL_MS;
  }

  /** Runs every check due by nowMs (at most one: a late timer fires once, as in the kernel). */
  run<K, E extends LocalityEntry>(table: Map<K, E>, nowMs: number): void {
    if (nowMs < this.nextCheck) return;
    this.nextCheck = nowMs + CHECK_EXPIRE_INTERVAL_MS;
    if (this.counter % COUNT_FOR_FULL_EXPIRATION === 0) {
      for (const [key, en] of table) {
        if (nowMs >= en.lastuse + this.expirationMs) table.delete(key);
      }
      this.counter = 1;
      return;
    }
    if (table.size <= this.maxSize) {
      this.counter++;
      return;
    }
    let goal = Math.trunc((table.size - this.maxSize) * 4 / 3);
    if (goal > this.maxSize / 2) goal = Math.trunc(this.maxSize / 2);
    // The kernel walks hash buckets from a rover; we walk in insertion order (oldest first).
    for (const [key, en] of table) {
      if (goal <= 0) break;
      if (nowMs < en.lastuse + ENTRY_TIMEOUT_MS) continue;
      table.delete(key);
      goal--;
    }
  }
}
