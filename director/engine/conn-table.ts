// The connection table (IPVS's ip_vs_conn_tab): one entry per connection, hashed on the
// client side (protocol, client address, client port) so that one lookup serves both
// directions. Entries live in typed arrays indexed by a slot number: no objects, no string
// keys and no allocation per packet; a slot number is also the connection's timer id.
import type { Destination, VirtualService } from "../service/types.ts";

export const NO_SLOT = -1;

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export class ConnTable {
  readonly capacity: number;
  private readonly bucketMask: number;
  private readonly buckets: Int32Array;
  private readonly chainNext: Int32Array;
  private readonly freeSlots: Int32Array;
  private freeCount: number;
  private liveCount = 0;

  /** IP protocol number (6 TCP, 17 UDP). */
  readonly proto: Uint8Array;
  /** Client address and port (the hash key). */
  readonly caddr: Uint32Array;
  readonly cport: Uint16Array;
  /** Virtual address and port the client talks to. */
  readonly vaddr: Uint32Array;
  readonly vport: Uint16Array;
  /** Real server ("destination") address and port. */
  readonly daddr: Uint32Array;
  readonly dport: Uint16Array;
  /** Protocol state (see director/protocols). */
  readonly state: Uint8Array;
  /** Per-connection flags (CONN_F_*). */
  readonly flags: Uint8Array;
  readonly dest: (Destination | null)[];
  readonly service: (VirtualService | null)[];

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new Error(`connection table size must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    const bucketCount = nextPowerOfTwo(Math.max(16, capacity));
    this.bucketMask = bucketCount - 1;
    this.buckets = new Int32Array(bucketCount).fill(NO_SLOT);
    this.chainNext = new Int32Array(capacity).fill(NO_SLOT);
    this.freeSlots = new Int32Array(capacity);
    // Hand out low slot numbers first: they keep the working set of the arrays small.
    for (let i = 0; i < capacity; i++) this.freeSlots[i] = capacity - 1 - i;
    this.freeCount = capacity;
    this.proto = new Uint8Array(capacity);
    this.caddr = new Uint32Array(capacity);
    this.cport = new Uint16Array(capacity);
    this.vaddr = new Uint32Array(capacity);
    this.vport = new Uint16Array(capacity);
    this.daddr = new Uint32Array(capacity);
    this.dport = new Uint16Array(capacity);
    this.state = new Uint8Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.dest = new Array<Destination | null>(capacity).fill(null);
    this.service = new Array<VirtualService | null>(capacity).fill(null);
  }

  /** Hash buckets (what ipvsadm shows as the table "size"). */
  get bucketCount(): number {
    return this.bucketMask + 1;
  }

  get size(): number {
    return this.liveCount;
  }

  get isFull(): boolean {
    return this.freeCount === 0;
  }

  private bucketOf(proto: number, caddr: number, cport: number): number {
    const h = Math.imul(caddr ^ Math.imul((cport << 8) ^ proto, 0x85ebca6b), 0x9e3779b1);
    return (h ^ (h >>> 15)) & this.bucketMask;
  }

  /** True when the slot holds a connection (slots are freed on expiry). */
  isLive(slot: number): boolean {
    return this.dest[slot] !== null;
  }

  /** Finds the connection of a packet from the client to the virtual service. */
  findInbound(proto: number, caddr: number, cport: number, vaddr: number, vport: number): number {
    let slot = this.buckets[this.bucketOf(proto, caddr, cport)];
    while (slot !== NO_SLOT) {
      if (
        this.caddr[slot] === caddr && this.cport[slot] === cport && this.proto[slot] === proto &&
        this.vaddr[slot] === vaddr && this.vport[slot] === vport
      ) return slot;
      slot = this.chainNext[slot];
    }
    return NO_SLOT;
  }

  /** Finds the connection of a reply from the real server back to the client. */
  findOutbound(proto: number, caddr: number, cport: number, daddr: number, dport: number): number {
    let slot = this.buckets[this.bucketOf(proto, caddr, cport)];
    while (slot !== NO_SLOT) {
      if (
        this.caddr[slot] === caddr && this.cport[slot] === cport && this.proto[slot] === proto &&
        this.daddr[slot] === daddr && this.dport[slot] === dport
      ) return slot;
      slot = this.chainNext[slot];
    }
    return NO_SLOT;
  }

  /** Inserts a connection; returns its slot, or NO_SLOT when the table is full. */
  insert(
    proto: number,
    caddr: number,
    cport: number,
    vaddr: number,
    vport: number,
    daddr: number,
    dport: number,
  ): number {
    if (this.freeCount === 0) return NO_SLOT;
    const slot = this.freeSlots[--this.freeCount];
    this.proto[slot] = proto;
    this.caddr[slot] = caddr;
    this.cport[slot] = cport;
    this.vaddr[slot] = vaddr;
    this.vport[slot] = vport;
    this.daddr[slot] = daddr;
    this.dport[slot] = dport;
    this.state[slot] = 0;
    this.flags[slot] = 0;
    const bucket = this.bucketOf(proto, caddr, cport);
    this.chainNext[slot] = this.buckets[bucket];
    this.buckets[bucket] = slot;
    this.liveCount++;
    return slot;
  }

  /** Removes a live connection and frees its slot. */
  remove(slot: number): void {
    const bucket = this.bucketOf(this.proto[slot], this.caddr[slot], this.cport[slot]);
    let cur = this.buckets[bucket];
    let prev = NO_SLOT;
    while (cur !== NO_SLOT && cur !== slot) {
      prev = cur;
      cur = this.chainNext[cur];
    }
    if (cur === NO_SLOT) return; // not live: nothing to do
    if (prev === NO_SLOT) this.buckets[bucket] = this.chainNext[slot];
    else this.chainNext[prev] = this.chainNext[slot];
    this.chainNext[slot] = NO_SLOT;
    this.dest[slot] = null;
    this.service[slot] = null;
    this.freeSlots[this.freeCount++] = slot;
    this.liveCount--;
  }

  /** Calls fn for every live slot (control path only: listing, flushing). */
  forEach(fn: (slot: number) => void): void {
    for (let b = 0; b <= this.bucketMask; b++) {
      let slot = this.buckets[b];
      while (slot !== NO_SLOT) {
        const next = this.chainNext[slot];
        fn(slot);
        slot = next;
      }
    }
  }
}
