// A single-producer, single-consumer ring of packet buffers in shared memory, between the
// packet worker (reads the TUN device, rewrites in place) and the transmit worker (writes the
// rewritten packets back). Why two threads: the kernel forwards what is written to a TUN
// device inside that write(2) call (routing, the veths, the receiver's TCP), about 70% of the
// packet thread's time; on a thread of its own that work overlaps the next packets' reading
// and rewriting. One consumer keeps the packets in the order they were read.
//
// The producer reads straight into the next free slot and publishes it with its length; the
// consumer writes published slots in order. Positions are int32 counters that wrap; a slot's
// index is the position modulo the slot count (a power of two). Neither side allocates: the
// slots' Buffer views are made once.

/** Indices into the control words. */
const HEAD = 0; // next position the producer publishes
const TAIL = 1; // next position the consumer writes
const CONSUMER_SLEEPING = 2; // 1 while the consumer waits for a packet
const PRODUCER_WAITING = 3; // 1 while the producer waits for a free slot
const WRITE_ERRORS = 4; // write(2) failures, counted by the consumer
const STOP = 5; // 1: the consumer returns (tests; the director terminates its workers)
const CONTROL_WORDS = 8;

/**
 * Packet counters, one writer each (so no atomics), as float64: exact to 2^53, where an int32
 * would wrap after two billion packets. Read by the packet worker for lvs-stats.
 */
const WRITTEN_BY_PACKET_THREAD = 0; // the producer wrote them itself (the ring was empty)
const WRITTEN_BY_TRANSMIT_WORKER = 1; // the consumer wrote them
const COUNTER_WORDS = 2;

/** How long either side sleeps at most before it looks again (ms): bounds a missed wake-up. */
const WAIT_MS = 100;
/** Empty-queue checks before the consumer sleeps: a packet often follows within microseconds. */
const SPINS_BEFORE_SLEEP = 256;

/**
 * A hand-off threshold for a director without a transmit worker: a small integer the packet
 * worker's backlog never reaches, so it writes every packet itself.
 */
export const HANDOFF_NEVER = 0x3fffffff;

export interface TransmitRingMemory {
  control: SharedArrayBuffer;
  counters: SharedArrayBuffer;
  lengths: SharedArrayBuffer;
  data: SharedArrayBuffer;
  slotSize: number;
}

/** Writes buf[0, count) somewhere (the TUN fd); returns the byte count or -1. */
export type PacketWriter = (buf: Buffer, count: number) => number;

export class TransmitRing {
  private readonly control: Int32Array;
  private readonly counters: Float64Array;
  private readonly lengths: Int32Array;
  private readonly slots: Buffer[];
  private readonly mask: number;

  /** Shared memory for a ring of `slotCount` (a power of two) slots of `slotSize` bytes. */
  static allocate(slotCount: number, slotSize: number): TransmitRingMemory {
    if (slotCount < 2 || (slotCount & (slotCount - 1)) !== 0) {
      throw new Error(`the transmit ring needs a power-of-two slot count, not ${slotCount}`);
    }
    return {
      control: new SharedArrayBuffer(CONTROL_WORDS * 4),
      counters: new SharedArrayBuffer(COUNTER_WORDS * 8),
      lengths: new SharedArrayBuffer(slotCount * 4),
      data: new SharedArrayBuffer(slotCount * slotSize),
      slotSize,
    };
  }

  constructor(memory: TransmitRingMemory) {
    this.control = new Int32Array(memory.control);
    this.counters = new Float64Array(memory.counters);
    this.lengths = new Int32Array(memory.lengths);
    const count = this.lengths.length;
    this.mask = count - 1;
    this.slots = [];
    for (let i = 0; i < count; i++) {
      this.slots.push(Buffer.from(memory.data, i * memory.slotSize, memory.slotSize));
    }
  }

  // --- producer side ---

  /**
   * The slot the next packet goes into, waiting while all slots are queued for writing.
   * The producer may fill it and then not publish it (a dropped packet): it is reused.
   */
  freeSlot(): Buffer {
    return this.slots[this.freeSlotAhead(0)];
  }

  /**
   * The index of the slot `ahead` places after the next one to publish, waiting until it is
   * free (a reader that fills several slots before publishing them: director/tun/tun-reader.ts).
   */
  freeSlotAhead(ahead: number): number {
    const control = this.control;
    const head = control[HEAD];
    for (;;) {
      const tail = Atomics.load(control, TAIL);
      if (((head + ahead - tail) | 0) <= this.mask) break;
      Atomics.store(control, PRODUCER_WAITING, 1);
      if (Atomics.load(control, TAIL) === tail) Atomics.wait(control, TAIL, tail, WAIT_MS);
      Atomics.store(control, PRODUCER_WAITING, 0);
    }
    return (head + ahead) & this.mask;
  }

  /** Slot `index`'s buffer (made once). */
  slot(index: number): Buffer {
    return this.slots[index];
  }

  /** Queues the slot freeSlot() returned, holding a packet of `length` bytes, for writing. */
  publish(length: number): void {
    const control = this.control;
    const head = control[HEAD];
    this.lengths[head & this.mask] = length;
    Atomics.store(control, HEAD, (head + 1) | 0);
    // Sequentially consistent: either the consumer sees the new head before it sleeps, or
    // this load sees it sleeping and wakes it.
    if (Atomics.load(control, CONSUMER_SLEEPING) === 1) Atomics.notify(control, HEAD, 1);
  }

  /** True when every published packet has been written. */
  empty(): boolean {
    return Atomics.load(this.control, TAIL) === this.control[HEAD];
  }

  /** Counts a write the producer made itself (it wrote while the ring was empty). */
  countOwnWrite(result: number): void {
    if (result < 0) Atomics.add(this.control, WRITE_ERRORS, 1);
    else this.counters[WRITTEN_BY_PACKET_THREAD]++;
  }

  /** Packets written by the producer itself, and by the consumer, so far. */
  get writtenByPacketThread(): number {
    return this.counters[WRITTEN_BY_PACKET_THREAD];
  }
  get writtenByTransmitWorker(): number {
    return this.counters[WRITTEN_BY_TRANSMIT_WORKER];
  }

  /** write(2) failures so far, on either side. */
  get writeErrors(): number {
    return Atomics.load(this.control, WRITE_ERRORS);
  }

  /** Makes the consumer's loop return once the queue is empty. */
  stop(): void {
    Atomics.store(this.control, STOP, 1);
    Atomics.notify(this.control, HEAD, 1);
  }

  // --- consumer side ---

  /** Writes every published packet in order, sleeping while there is none; returns on stop(). */
  consume(write: PacketWriter): void {
    const control = this.control;
    let tail = control[TAIL];
    let spins = 0;
    for (;;) {
      const head = Atomics.load(control, HEAD);
      if (head === tail) {
        if (Atomics.load(control, STOP) === 1) return;
        if (++spins < SPINS_BEFORE_SLEEP) continue;
        spins = 0;
        Atomics.store(control, CONSUMER_SLEEPING, 1);
        if (Atomics.load(control, HEAD) === tail) Atomics.wait(control, HEAD, tail, WAIT_MS);
        Atomics.store(control, CONSUMER_SLEEPING, 0);
        continue;
      }
      spins = 0;
      let written = 0;
      do {
        const index = tail & this.mask;
        if (write(this.slots[index], this.lengths[index]) < 0) {
          Atomics.add(control, WRITE_ERRORS, 1);
        } else written++;
        tail = (tail + 1) | 0;
        Atomics.store(control, TAIL, tail);
      } while (tail !== head);
      this.counters[WRITTEN_BY_TRANSMIT_WORKER] += written;
      if (Atomics.load(control, PRODUCER_WAITING) === 1) Atomics.notify(control, TAIL, 1);
    }
  }
}
