// The receive loop: sleep in poll(2) on the raw socket, take a batch with recvmmsg, check each
// packet (outer-packet.ts), write each inner packet to the TUN device. It runs on the main
// thread in slices of SLICE_MS and then yields once to the event loop, where signals, the
// stats file and the address refresh are served: the loop itself allocates nothing per
// packet (counters in a typed array, one reused result, cached write views).
import { pollReadable } from "../../director/tun/poll.ts";
import { writeFd } from "../../director/tun/fd-io.ts";
import { Verdict, VERDICT_COUNT } from "./drop-reasons.ts";
import { type DecapPolicy, decapsulate, Decapsulated } from "./outer-packet.ts";
import type { RawReceiver } from "./raw-receiver.ts";

/** How long one slice of the loop runs before the event loop gets a turn. */
export const SLICE_MS = 50;
/** Batches taken per wake-up before poll(2) is asked again. */
const MAX_BATCHES_PER_WAKE = 64;
/** Inner offsets up to this get a cached view for write(2); beyond, the packet is moved. */
const VIEW_OFFSETS = 256;

export class DecapLoop {
  /** Packets by verdict (index = Verdict code). */
  readonly counts = new Float64Array(VERDICT_COUNT);
  /** recvmmsg errors other than "nothing there", and the last errno. */
  receiveErrors = 0;
  lastReceiveErrno = 0;
  private readonly out = new Decapsulated();
  /** views[slot * VIEW_OFFSETS + offset]: slot buffer from offset on, made on first use. */
  private readonly views: (Uint8Array | undefined)[];
  private running = false;

  constructor(
    private readonly receiver: Pick<RawReceiver, "fd" | "batch" | "receive" | "slot" | "length">,
    private readonly tunFd: number,
    /** Read on every packet; the caller may swap its address sets at any time. */
    readonly policy: DecapPolicy,
  ) {
    this.views = new Array(receiver.batch * VIEW_OFFSETS);
  }

  start(): void {
    this.running = true;
    const slice = () => {
      if (!this.running) return;
      this.runFor(SLICE_MS);
      setImmediate(slice);
    };
    setImmediate(slice);
  }

  stop(): void {
    this.running = false;
  }

  /** Serves packets for about `ms` milliseconds (synchronously). */
  runFor(ms: number): void {
    const deadline = performance.now() + ms;
    for (;;) {
      const left = Math.ceil(deadline - performance.now());
      if (left <= 0) return;
      if ((pollReadable(this.receiver.fd, -1, left) & 1) === 0) continue;
      for (let b = 0; b < MAX_BATCHES_PER_WAKE; b++) {
        const n = this.receiver.receive();
        if (n < 0) {
          this.receiveErrors++;
          this.lastReceiveErrno = -n;
          break;
        }
        for (let i = 0; i < n; i++) this.handle(i);
        if (n < this.receiver.batch) break;
      }
    }
  }

  /** Checks packet i of the last batch and injects its inner packet or counts why not. */
  handle(i: number): void {
    const buf = this.receiver.slot(i);
    const out = this.out;
    let verdict = decapsulate(buf, this.receiver.length(i), this.policy, out);
    if (verdict === Verdict.INJECT) {
      let offset = out.innerOffset;
      if (offset >= VIEW_OFFSETS) {
        buf.copyWithin(0, offset, offset + out.innerLength);
        offset = 0;
      }
      const at = i * VIEW_OFFSETS + offset;
      const view = this.views[at] ?? (this.views[at] = buf.subarray(offset));
      if (writeFd(this.tunFd, view, out.innerLength) !== out.innerLength) {
        verdict = Verdict.INJECT_FAILED;
      }
    }
    this.counts[verdict]!++;
  }
}
