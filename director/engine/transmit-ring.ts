// A single-producer, single-consumer ring of packet buffers in shared memory, between the
// packet worker (reads the TUN device, rewrites in place) and the transmit worker (writes the
// rewritten packets back). Why two threads: the kernel forwards what is written to a TUN
// device inside that write(2) call (routing, the veths, the receiver's TCP), about 70% of the
// packet thread's time; on a thread of its own that work overlaps the next packets' reading
// and rewriting. One consumer keeps the packets in the order they were read.
//
// The producer reads straight into the next free slot and publishes it with its length and
// where it goes: back into the TUN device, or as a frame to a next hop of the link table
// (VS/DR, and VS/NAT with --nat-transmit packet), which the consumer sends with its own
// packet sockets in sendmmsg batches. The consumer handles published slots in order and
// sends its queued frames before any TUN write and before it reports the ring drained, so
// the packets of a flow leave in the order they were read. Positions are int32 counters that wrap; a slot's
// index is the position modulo the slot count (a power of two). Neither side allocates: the
// slots' Buffer views are made once.

/** Indices into the control words. */
const HEAD = 0; // next position the producer publishes
const TAIL = 1; // next position the consumer writes
const CONSUMER_SLEEPING = 2; // 1 while the consumer waits for a packet
const PRODUCER_WAITING = 3; // 1 while the producer waits for a free slot
const WRITE_ERRORS = 4; // write(2) failures, counted by the consumer
const STOP = 5; // 1: the consumer returns (tests; the director terminates its workers)
const DONE = 6; // position up to which every packet has been written or its frame sent
const CONSUMER_THREAD_ID = 7; // the consumer's Linux thread id (perf names threads by it)
const LINK_GENERATION = 8; // bumped by the producer after it posts a link-table change
const CONTROL_WORDS = 16;

/**
 * Packet counters, one writer each (so no atomics), as float64: exact to 2^53, where an int32
 * would wrap after two billion packets. Read by the packet worker for lvs-stats.
 */
const WRITTEN_BY_PACKET_THREAD = 0; // the producer wrote them itself (the ring was empty)
const WRITTEN_BY_TRANSMIT_WORKER = 1; // the consumer wrote them
const FRAMES_BY_TRANSMIT_WORKER = 2; // frames the consumer's sockets sent, sendmmsg calls, refusals
const FRAME_CALLS_BY_TRANSMIT_WORKER = 3;
const FRAME_ERRORS_BY_TRANSMIT_WORKER = 4;
const COUNTER_WORDS = 5;

/** How long either side sleeps at most before it looks again (ms): bounds a missed wake-up. */
const WAIT_MS = 100;
/** Empty-queue checks before the consumer sleeps: a packet often follows within microseconds. */
const SPINS_BEFORE_SLEEP = 256;

/**
 * A hand-off threshold for a director without a transmit worker: a small integer the packet
 * worker's backlog never reaches, so it writes every packet itself.
 */
export const HANDOFF_NEVER = 0x3fffffff;

/** A slot's destination: write it back into the TUN device (else: a link table next hop). */
export const TO_TUN = -1;

export interface TransmitRingMemory {
  control: SharedArrayBuffer;
  counters: SharedArrayBuffer;
  lengths: SharedArrayBuffer;
  /** Each slot's destination: TO_TUN or a next hop of the link table. */
  hops: SharedArrayBuffer;
  data: SharedArrayBuffer;
  slotSize: number;
}

/** Writes buf[0, count) somewhere (the TUN fd); returns the byte count or -1. */
export type PacketWriter = (buf: Buffer, count: number) => number;

/** Where the consumer sends slots published with a next hop (its own link table). */
export interface FrameSink {
  /** Copies buf[0, length) out as a frame to next hop `hop` (the slot is reused after). */
  queue(hop: number, buf: Buffer, length: number): void;
  /** Sends every queued frame. */
  flush(): void;
  /** Called when the producer changed the link table (LINK_GENERATION moved). */
  reconfigure(): void;
  /** Writes the sink's frames sent, sendmmsg calls and refusals at out[at..at+3). */
  countersInto(out: Float64Array, at: number): void;
}

export class TransmitRing {
  private readonly control: Int32Array;
  private readonly counters: Float64Array;
  private readonly lengths: Int32Array;
  private readonly hops: Int32Array;
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
      hops: new SharedArrayBuffer(slotCount * 4),
      data: new SharedArrayBuffer(slotCount * slotSize),
      slotSize,
    };
  }

  constructor(memory: TransmitRingMemory) {
    this.control = new Int32Array(memory.control);
    this.counters = new Float64Array(memory.counters);
    this.lengths = new Int32Array(memory.lengths);
    this.hops = new Int32Array(memory.hops);
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

  /**
   * Queues the slot freeSlot() returned, holding a packet of `length` bytes, for writing to
   * the TUN device, or (`hop`, a link table next hop) for sending as a frame.
   */
  publish(length: number, hop: number = TO_TUN): void {
    const control = this.control;
    const head = control[HEAD];
    this.lengths[head & this.mask] = length;
    this.hops[head & this.mask] = hop;
    Atomics.store(control, HEAD, (head + 1) | 0);
    // Sequentially consistent: either the consumer sees the new head before it sleeps, or
    // this load sees it sleeping and wakes it.
    if (Atomics.load(control, CONSUMER_SLEEPING) === 1) Atomics.notify(control, HEAD, 1);
  }

  /** True when every published packet has been written or sent. */
  empty(): boolean {
    return Atomics.load(this.control, DONE) === this.control[HEAD];
  }

  /** Tells the consumer the link table changed (after the change was posted to it). */
  linkTableChanged(): void {
    Atomics.add(this.control, LINK_GENERATION, 1);
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

  /** Frames the consumer sent, its sendmmsg calls for them, and the frames refused. */
  get framesSentByTransmitWorker(): number {
    return this.counters[FRAMES_BY_TRANSMIT_WORKER];
  }
  get transmitFrameSendCalls(): number {
    return this.counters[FRAME_CALLS_BY_TRANSMIT_WORKER];
  }
  get transmitFrameSendErrors(): number {
    return this.counters[FRAME_ERRORS_BY_TRANSMIT_WORKER];
  }

  /** The consumer's Linux thread id (0 until it runs). */
  get consumerThreadId(): number {
    return Atomics.load(this.control, CONSUMER_THREAD_ID);
  }
  set consumerThreadId(tid: number) {
    Atomics.store(this.control, CONSUMER_THREAD_ID, tid);
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

  /**
   * Writes every published packet in order, or hands it to `frames` when it was published
   * with a next hop; sleeps while there is none; returns on stop().
   */
  consume(write: PacketWriter, frames: FrameSink | null = null): void {
    const control = this.control;
    let tail = control[TAIL];
    let spins = 0;
    // From 0, not the current value: changes posted before this thread started are applied.
    let generation = 0;
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
      // Loaded after HEAD: a change posted before these slots were published is seen.
      if (frames !== null && Atomics.load(control, LINK_GENERATION) !== generation) {
        generation = Atomics.load(control, LINK_GENERATION);
        frames.reconfigure();
      }
      let written = 0;
      let queued = false;
      do {
        const index = tail & this.mask;
        const hop = this.hops[index];
        if (hop !== TO_TUN && frames !== null) {
          frames.queue(hop, this.slots[index], this.lengths[index]);
          queued = true;
        } else {
          // Frames read before this packet leave before it.
          if (queued) frames!.flush();
          queued = false;
          if (write(this.slots[index], this.lengths[index]) < 0) {
            Atomics.add(control, WRITE_ERRORS, 1);
          } else written++;
        }
        tail = (tail + 1) | 0;
        Atomics.store(control, TAIL, tail);
      } while (tail !== head);
      if (queued) frames!.flush();
      if (frames !== null) frames.countersInto(this.counters, FRAMES_BY_TRANSMIT_WORKER);
      Atomics.store(control, DONE, tail);
      this.counters[WRITTEN_BY_TRANSMIT_WORKER] += written;
      if (Atomics.load(control, PRODUCER_WAITING) === 1) Atomics.notify(control, TAIL, 1);
    }
  }
}
