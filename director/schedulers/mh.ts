// Maglev hashing (ip_vs_mh.c, after Eisenbud et al., NSDI 2016, section 3.4). Each
// destination has a permutation of the lookup table's slots (offset + k*skip mod M, M
// prime); destinations take turns claiming their next free preferred slot until the
// table is full, each claiming `turns` slots per round, turns ∝ weight. A client address
// (+ port with mh-port) hashes to a slot. Removing a destination moves few other slots.
//
// Differences from the kernel, on purpose: the kernel hashes with hsiphash() keyed with
// fixed constants; we use keyedHash32() (hash.ts) with the same constants, so the
// algorithm is the kernel's but individual slot assignments differ.
import type { Destination, Scheduler, VirtualService } from "../service/types.ts";
import { parseSchedulerFlags, SCHED_FLAG_1, SCHED_FLAG_2 } from "./flags.ts";
import { fls, gcd, keyedHash32 } from "./hash.ts";

/** Table sizes by CONFIG_IP_VS_MH_TAB_INDEX - 8. */
export const MH_PRIMES: readonly number[] = [
  251,
  509,
  1021,
  2039,
  4093,
  8191,
  16381,
  32749,
  65521,
  131071,
];
/** The kernel's default CONFIG_IP_VS_MH_TAB_INDEX (12: 4093 slots). */
export const MH_DEFAULT_TAB_INDEX = 12;

// The kernel's generate_hash_secret() constants.
const HASH1_KEY = 2654435761;
const HASH2_KEY = 2654446892;

/** ip_vs_mh_hashkey: hash of (offset + port + addr) as a u32. */
function mhHashKey(addr: number, port: number, key: number, offset: number): number {
  return keyedHash32((offset + port + addr) >>> 0, key);
}

function unavailable(dest: Destination): boolean {
  return dest.weight <= 0 || dest.overloaded || !dest.available;
}

export interface MaglevOptions {
  /** CONFIG_IP_VS_MH_TAB_INDEX, 8..17 (table size MH_PRIMES[index - 8]); default 12. */
  tableIndex?: number;
}

export class MaglevHashingScheduler implements Scheduler {
  readonly name: string = "mh";
  readonly tableSize: number;
  /** IP_VS_MH_TAB_BITS: weights/gcd above 2^bits are shifted down to keep turns small. */
  private readonly tabBits: number;
  private readonly lookup: (Destination | null)[];
  private readonly taken: Uint8Array;
  private readonly baseFlags: number;
  private fallback = false;
  private usePort = false;
  /**
   * dest->last_weight: the latest non-zero weight. A destination quiesced to weight 0
   * keeps its slots (and gets no connections); one added with weight 0 gets none.
   */
  private readonly lastWeight = new WeakMap<Destination, number>();

  constructor(flags: readonly string[] = [], options: MaglevOptions = {}) {
    const index = options.tableIndex ?? MH_DEFAULT_TAB_INDEX;
    if (!Number.isInteger(index) || index < 8 || index > 17) {
      throw new Error(`mh table index ${index} is out of range: use 8 to 17`);
    }
    this.tableSize = MH_PRIMES[index - 8];
    this.tabBits = index >> 1;
    this.lookup = new Array(this.tableSize).fill(null);
    this.taken = new Uint8Array(this.tableSize);
    this.baseFlags = parseSchedulerFlags(flags);
    this.setFlags(this.baseFlags);
  }

  private setFlags(bits: number): void {
    this.fallback = (bits & SCHED_FLAG_1) !== 0;
    this.usePort = (bits & SCHED_FLAG_2) !== 0;
  }

  /** The destination in slot i (table inspection, tests). */
  slot(i: number): Destination | null {
    return this.lookup[i];
  }

  /** ip_vs_mh_dest_changed: recompute gcd and shift, then permutate and populate. */
  update(svc: VirtualService): void {
    this.setFlags(this.baseFlags | parseSchedulerFlags(svc.schedulerFlags ?? []));
    const dests = svc.destinations;
    const M = this.tableSize;
    if (dests.length > M) {
      throw new Error(`mh supports at most ${M} real servers per service`);
    }
    const weights = dests.map((d) => {
      const lw = d.weight > 0 ? d.weight : (this.lastWeight.get(d) ?? 0);
      this.lastWeight.set(d, lw);
      return lw;
    });

    let g = 0;
    let maxWeight = 0;
    for (const w of weights) {
      if (w > 0) g = g > 0 ? gcd(w, g) : w;
      if (w > maxWeight) maxWeight = w;
    }
    if (g < 1) {
      // No destination, or none ever had weight: empty table.
      this.lookup.fill(null);
      return;
    }
    const shift = Math.max(0, fls(Math.trunc(maxWeight / g)) - this.tabBits);

    // ip_vs_mh_permutate: offset and skip from the destination's address and port.
    const n = dests.length;
    const perm = new Array<number>(n);
    const skip = new Array<number>(n);
    const turns = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const d = dests[i];
      perm[i] = mhHashKey(d.addr, d.port, HASH1_KEY, 0) % M;
      skip[i] = (mhHashKey(d.addr, d.port, HASH2_KEY, 0) % (M - 1)) + 1;
      const lw = weights[i];
      turns[i] = (Math.trunc(lw / g) >> shift) || (lw !== 0 ? 1 : 0);
    }

    // ip_vs_mh_populate: round after round, each destination claims `turns` slots.
    this.taken.fill(0);
    let filled = 0;
    let p = 0;
    let count = 0;
    while (filled < M) {
      if (p === n) p = 0;
      while (p < n) {
        if (turns[p] < 1) {
          p++;
          continue;
        }
        let c = perm[p];
        while (this.taken[c]) {
          c += skip[p];
          if (c >= M) c -= M;
        }
        perm[p] = c;
        this.taken[c] = 1;
        this.lookup[c] = dests[p];
        if (++filled === M) return;
        if (++count >= turns[p]) {
          count = 0;
          p++;
        }
      }
    }
  }

  schedule(
    _svc: VirtualService,
    srcAddr: number,
    srcPort: number,
    _dstAddr: number,
    _dstPort: number,
  ): Destination | null {
    const M = this.tableSize;
    const port = this.usePort ? srcPort : 0;
    const ihash = mhHashKey(srcAddr, port, HASH1_KEY, 0) % M;
    let dest = this.lookup[ihash];
    if (dest === null) return null;
    if (!unavailable(dest)) return dest;
    if (!this.fallback) return null;
    // ip_vs_mh_get_fallback: rehash with growing offsets from the original slot.
    for (let offset = 0; offset < M; offset++) {
      const roffset = (offset + ihash) % M;
      dest = this.lookup[mhHashKey(srcAddr, port, HASH1_KEY, roffset) % M];
      if (dest === null) break;
      if (!unavailable(dest)) return dest;
    }
    return null;
  }
}
