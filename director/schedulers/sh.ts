// Source hashing (ip_vs_sh.c): a 256-bucket table where each destination fills `weight`
// consecutive buckets in turn (weight 0 still gets one), indexed by hash_32 of the client
// address (+ client port with sh-port). sh-fallback walks the table from the original
// bucket to the first server that can take the connection.
import type { Destination, Scheduler, VirtualService } from "../service/types.ts";
import { parseSchedulerFlags, SCHED_FLAG_1, SCHED_FLAG_2 } from "./flags.ts";
import { hash32 } from "./hash.ts";

export const SH_TAB_BITS = 8;
export const SH_TAB_SIZE = 1 << SH_TAB_BITS;
const SH_TAB_MASK = SH_TAB_SIZE - 1;

/** ip_vs_sh_hashkey: (offset + hash_32(port + addr, 8)) & mask, with u32 wrap-around. */
export function shHashKey(addr: number, port: number, offset: number): number {
  return (offset + hash32((port + addr) >>> 0, SH_TAB_BITS)) & SH_TAB_MASK;
}

function unavailable(dest: Destination): boolean {
  return dest.weight <= 0 || dest.overloaded || !dest.available;
}

export class SourceHashingScheduler implements Scheduler {
  readonly name: string = "sh";
  private readonly buckets: (Destination | null)[] = new Array(SH_TAB_SIZE).fill(null);
  private readonly baseFlags: number;
  private fallback = false;
  private usePort = false;

  constructor(flags: readonly string[] = []) {
    this.baseFlags = parseSchedulerFlags(flags);
    this.setFlags(this.baseFlags);
  }

  private setFlags(bits: number): void {
    this.fallback = (bits & SCHED_FLAG_1) !== 0;
    this.usePort = (bits & SCHED_FLAG_2) !== 0;
  }

  /** ip_vs_sh_reassign. Flags: the constructor's plus the service's own. */
  update(svc: VirtualService): void {
    this.setFlags(this.baseFlags | parseSchedulerFlags(svc.schedulerFlags ?? []));
    const dests = svc.destinations;
    let p = 0;
    let count = 0;
    for (let i = 0; i < SH_TAB_SIZE; i++) {
      if (dests.length === 0) {
        this.buckets[i] = null;
        continue;
      }
      if (p === dests.length) p = 0;
      const dest = dests[p];
      this.buckets[i] = dest;
      // Stay on this destination until it has filled `weight` buckets.
      if (++count >= dest.weight) {
        p++;
        count = 0;
      }
    }
  }

  /** The destination in bucket i (table inspection, tests). */
  bucket(i: number): Destination | null {
    return this.buckets[i];
  }

  schedule(
    _svc: VirtualService,
    srcAddr: number,
    srcPort: number,
    _dstAddr: number,
    _dstPort: number,
  ): Destination | null {
    const port = this.usePort ? srcPort : 0;
    const ihash = shHashKey(srcAddr, port, 0);
    let dest = this.buckets[ihash];
    if (dest === null) return null;
    if (!unavailable(dest)) return dest;
    if (!this.fallback) return null;
    for (let offset = 0; offset < SH_TAB_SIZE; offset++) {
      const roffset = (offset + ihash) % SH_TAB_SIZE;
      dest = this.buckets[shHashKey(srcAddr, port, roffset)];
      if (dest === null) break;
      if (!unavailable(dest)) return dest;
    }
    return null;
  }
}
