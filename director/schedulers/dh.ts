// Destination hashing (ip_vs_dh.c): a 256-bucket table filled round-robin with the
// destinations (weights ignored), indexed by hash_32 of the packet's destination address.
// No fallback: if the bucket's server cannot take connections, there is none.
import type { Destination, Scheduler, VirtualService } from "../service/types.ts";
import { hash32 } from "./hash.ts";

export const DH_TAB_BITS = 8;
export const DH_TAB_SIZE = 1 << DH_TAB_BITS;

export class DestinationHashingScheduler implements Scheduler {
  readonly name: string = "dh";
  private readonly buckets: (Destination | null)[] = new Array(DH_TAB_SIZE).fill(null);

  /** ip_vs_dh_reassign: bucket i gets destination i mod n. */
  update(svc: VirtualService): void {
    const dests = svc.destinations;
    for (let i = 0; i < DH_TAB_SIZE; i++) {
      this.buckets[i] = dests.length === 0 ? null : dests[i % dests.length];
    }
  }

  /** The destination in the bucket for addr (table inspection, tests). */
  bucketFor(addr: number): Destination | null {
    return this.buckets[hash32(addr, DH_TAB_BITS)];
  }

  schedule(
    _svc: VirtualService,
    _srcAddr: number,
    _srcPort: number,
    dstAddr: number,
    _dstPort: number,
  ): Destination | null {
    const dest = this.buckets[hash32(dstAddr, DH_TAB_BITS)];
    if (dest === null || !dest.available || dest.weight <= 0 || dest.overloaded) return null;
    return dest;
  }
}
