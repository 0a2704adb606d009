// How the packet worker reads the TUN device into the transmit ring's slots: one read(2) per
// packet (read), or a batch of reads submitted and completed in one io_uring_enter (uring:
// ./io-uring.ts). Both give packets in the order the kernel queued them, in a slot that
// publish() hands to the transmit worker.
//
// uring: the batch reads into the next `batch` free slots. With RWF_NOWAIT every read runs
// inside the enter call, one after the other, so completions come in submission order (the
// test checks it): a read that finds the queue empty gets -EAGAIN, and so usually do those after
// it. A packet can still arrive between two of them; it is kept (after the -EAGAIN, which
// loses nothing). A slot whose packet is dropped, or written by this thread, is not
// published, so a later packet of the batch may sit past the ring's head: publish() copies it
// down to the head first (rare: a batch is either all written here or all handed off).
import { TO_TUN, type TransmitRing, type TransmitRingMemory } from "../engine/transmit-ring.ts";
import { EAGAIN, lastErrno, readFd } from "./fd-io.ts";
import { bufferAddress, IoUring } from "./io-uring.ts";

export const TUN_READ_MODES = ["auto", "uring", "read"] as const;
export type TunReadOption = typeof TUN_READ_MODES[number];
/** What the packet worker does: auto is resolved before it starts (resolveTunRead). */
export type TunReadMode = Exclude<TunReadOption, "auto">;
/**
 * uring where the kernel allows it: measured with perf stat under the bench loads (README),
 * fewer syscalls per packet. auto, not uring: io_uring may be off (io_uring_disabled) or
 * refused by a container's seccomp profile (Docker's default since 25.0), and the director
 * must still run there.
 */
export const DEFAULT_TUN_READ: TunReadOption = "auto";

/** The mode an option means here: auto is uring if an io_uring can be set up, else read. */
export function resolveTunRead(option: TunReadOption): { mode: TunReadMode; why?: string } {
  if (option !== "auto") return { mode: option };
  try {
    new IoUring(1).close();
    return { mode: "uring" };
  } catch (err) {
    return { mode: "read", why: (err as Error).message };
  }
}
/** Reads submitted per io_uring_enter. */
export const URING_READ_BATCH = 8;

export interface TunReader {
  /** Reads the next packet into `buf`: its length, or -errno (-EAGAIN: the queue is empty). */
  read(): number;
  /** The slot the last read() filled. */
  readonly buf: Buffer;
  /**
   * Queues the last packet read, `length` bytes after rewriting, for the transmit worker: a
   * TUN write, or (`hop`, a link table next hop) a frame it sends.
   */
  publish(length: number, hop?: number): void;
}

/** One read(2) per packet, into the ring's next free slot. */
export class SyscallTunReader implements TunReader {
  buf: Buffer;

  constructor(
    private readonly fd: number,
    private readonly ring: TransmitRing,
    private readonly slotSize: number,
  ) {
    this.buf = ring.freeSlot();
  }

  read(): number {
    this.buf = this.ring.freeSlot();
    const n = readFd(this.fd, this.buf, this.slotSize);
    return n < 0 ? -lastErrno() : n;
  }

  publish(length: number, hop: number = TO_TUN): void {
    this.ring.publish(length, hop);
  }
}

/** A batch of reads per io_uring_enter, into the ring's next free slots. */
export class UringTunReader implements TunReader {
  buf: Buffer;
  private readonly uring: IoUring;
  private readonly base: number;
  /** Slot indices of the batch, by position in it. */
  private readonly slotOf: Int32Array;
  /** Completions of the current batch, and the next one to look at. */
  private ready = 0;
  private next = 0;
  /** Packets of the current batch published so far (the head is that far into the batch). */
  private published = 0;
  private batchPosition = 0;
  private sawEmpty = false;

  constructor(
    private readonly fd: number,
    private readonly ring: TransmitRing,
    memory: TransmitRingMemory,
    private readonly batch = URING_READ_BATCH,
  ) {
    const slots = memory.lengths.byteLength / 4;
    if (batch > slots) {
      throw new Error(`the transmit ring has ${slots} slots, fewer than a read batch (${batch})`);
    }
    this.uring = new IoUring(batch);
    this.base = bufferAddress(memory.data);
    this.slotOf = new Int32Array(batch);
    this.buf = ring.freeSlot();
  }

  read(): number {
    for (;;) {
      if (this.next < this.ready) {
        const res = this.uring.cqeRes(this.next);
        const position = this.next++;
        if (res === -EAGAIN) {
          this.sawEmpty = true;
          continue;
        }
        this.batchPosition = position;
        this.buf = this.ring.slot(this.slotOf[position]);
        return res;
      }
      if (this.ready > 0) {
        this.uring.advance(this.ready);
        this.ready = 0;
        if (this.sawEmpty) {
          this.sawEmpty = false;
          return -EAGAIN;
        }
      }
      const r = this.submitBatch();
      if (r < 0) return r;
    }
  }

  private submitBatch(): number {
    const slotSize = this.ring.slot(0).length;
    for (let k = 0; k < this.batch; k++) {
      const index = this.ring.freeSlotAhead(k);
      this.slotOf[k] = index;
      this.uring.read(this.fd, this.base + index * slotSize, slotSize, k);
    }
    this.published = 0;
    this.next = 0;
    for (;;) {
      const n = this.uring.submit(this.batch);
      if (n >= 0) break;
      const errno = lastErrno();
      if (errno !== 4) return -errno; // EINTR: the reads were not taken; submit again
    }
    this.ready = this.uring.peek();
    return 0;
  }

  publish(length: number, hop: number = TO_TUN): void {
    if (this.batchPosition !== this.published) {
      const head = this.ring.slot(this.slotOf[this.published]);
      this.buf.copy(head, 0, 0, length);
    }
    this.published++;
    this.ring.publish(length, hop);
  }
}

/** The reader for a --tun-read mode. */
export function tunReader(
  mode: TunReadMode,
  fd: number,
  ring: TransmitRing,
  memory: TransmitRingMemory,
): TunReader {
  return mode === "uring"
    ? new UringTunReader(fd, ring, memory)
    : new SyscallTunReader(fd, ring, memory.slotSize);
}
