// The connection table (IPVS's ip_vs_conn_tab): one entry per connection, hashed on the
// client side (protocol, client address, client port) so that one lookup serves both
// directions. Entries live in typed arrays indexed by a slot number: no objects, no string
// keys and no allocation per packet; a slot number is also the connection's timer id.
import { type Destination, NO_NEXT_HOP, type VirtualService } from "../service/types.ts";

export const NO_SLOT = -1;

/** Connection flags kept in ConnTable.flags. */
export const CONN_F_INACTIVE = 0x01;
/** Set for forwarding methods whose replies bypass the director (TUN, DR). */
export const CONN_F_NOOUTPUT = 0x02;
/**
 * A persistence template (IP_VS_CONN_F_TEMPLATE): client network, port 0 → real server.
 * Never matched by packet lookups, only by findTemplate().
 */
export const CONN_F_TEMPLATE = 0x04;
/** A template that may no longer be used (its server went away); it waits to expire. */
export const CONN_F_INVALID = 0x08;

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
  /**
   * Addresses are stored signed (Int32Array): reads are small integers, never boxed.
   * Lookups accept either form. Client address and port (the hash key).
   */
  readonly caddr: Int32Array;
  readonly cport: Uint16Array;
  /** Virtual address and port the client talks to. */
  readonly vaddr: Int32Array;
  readonly vport: Uint16Array;
  /** Real server ("destination") address and port. */
  readonly daddr: Int32Array;
  readonly dport: Uint16Array;
  /** Protocol state (see director/protocols). */
  readonly state: Uint8Array;
  /** Per-connection flags (CONN_F_*). */
  readonly flags: Uint8Array;
  /** Forwarding method, an index into FORWARDING_METHODS (IPVS's cp->packet_xmit). */
  readonly method: Uint8Array;
  readonly dest: (Destination | null)[];
  readonly service: (VirtualService | null)[];
  /**
   * The entry that controls this one (its persistence template, or an FTP control
   * connection for a data connection): IPVS's cp->control. NO_SLOT when none.
   */
  readonly controller: Int32Array;
  /** How many entries this one controls (IPVS's n_control); it outlives them. */
  readonly controlledCount: Uint32Array;
  /**
   * VS/NAT over a link: the next hop of the replies to the client (director/net/nat-routes.ts),
   * looked up at the first reply; NO_NEXT_HOP until then.
   */
  readonly replyHop: Int32Array;

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
    this.caddr = new Int32Array(capacity);
    this.cport = new Uint16Array(capacity);
    this.vaddr = new Int32Array(capacity);
    this.vport = new Uint16Array(capacity);
    this.daddr = new Int32Array(capacity);
    this.dport = new Uint16Array(capacity);
    this.state = new Uint8Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.method = new Uint8Array(capacity);
    this.dest = new Array<Destination | null>(capacity).fill(null);
    this.service = new Array<VirtualService | null>(capacity).fill(null);
    this.controller = new Int32Array(capacity).fill(NO_SLOT);
    this.controlledCount = new Uint32Array(capacity);
    this.replyHop = new Int32Array(capacity).fill(NO_NEXT_HOP);
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
    caddr |= 0;
    vaddr |= 0;
    let slot = this.buckets[this.bucketOf(proto, caddr, cport)];
    while (slot !== NO_SLOT) {
      if (
        this.caddr[slot] === caddr && this.cport[slot] === cport && this.proto[slot] === proto &&
        this.vaddr[slot] === vaddr && this.vport[slot] === vport &&
        (this.flags[slot] & CONN_F_TEMPLATE) === 0
      ) return slot;
      slot = this.chainNext[slot];
    }
    return NO_SLOT;
  }

  /** Finds a usable persistence template of (client network, virtual service). */
  findTemplate(proto: number, cnet: number, vaddr: number, vport: number): number {
    cnet |= 0;
    vaddr |= 0;
    let slot = this.buckets[this.bucketOf(proto, cnet, 0)];
    while (slot !== NO_SLOT) {
      if (
        this.caddr[slot] === cnet && this.cport[slot] === 0 && this.proto[slot] === proto &&
        this.vaddr[slot] === vaddr && this.vport[slot] === vport &&
        (this.flags[slot] & (CONN_F_TEMPLATE | CONN_F_INVALID)) === CONN_F_TEMPLATE
      ) return slot;
      slot = this.chainNext[slot];
    }
    return NO_SLOT;
  }

  /** Finds the connection of a reply from the real server back to the client. */
  findOutbound(proto: number, caddr: number, cport: number, daddr: number, dport: number): number {
    caddr |= 0;
    daddr |= 0;
    let slot = this.buckets[this.bucketOf(proto, caddr, cport)];
    while (slot !== NO_SLOT) {
      if (
        this.caddr[slot] === caddr && this.cport[slot] === cport && this.proto[slot] === proto &&
        this.daddr[slot] === daddr && this.dport[slot] === dport &&
        (this.flags[slot] & CONN_F_TEMPLATE) === 0
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
    this.method[slot] = 0;
    this.controller[slot] = NO_SLOT;
    this.controlledCount[slot] = 0;
    this.replyHop[slot] = NO_NEXT_HOP;
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
    this.unlinkControl(slot);
    this.dest[slot] = null;
    this.service[slot] = null;
    this.freeSlots[this.freeCount++] = slot;
    this.liveCount--;
  }

  /** Puts `slot` under the control of `controllerSlot` (ip_vs_control_add). */
  setController(slot: number, controllerSlot: number): void {
    this.controller[slot] = controllerSlot;
    this.controlledCount[controllerSlot]++;
  }

  /**
   * Detaches a slot being removed from its controller, and its controlled entries from it.
   * A controller normally outlives what it controls, so the scan runs only when an entry is
   * removed by force (table flush, deleted real server).
   */
  private unlinkControl(slot: number): void {
    const controllerSlot = this.controller[slot];
    if (controllerSlot !== NO_SLOT) {
      this.controlledCount[controllerSlot]--;
      this.controller[slot] = NO_SLOT;
    }
    if (this.controlledCount[slot] !== 0) {
      for (let i = 0; i < this.capacity; i++) {
        if (this.controller[i] === slot) this.controller[i] = NO_SLOT;
      }
      this.controlledCount[slot] = 0;
    }
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
