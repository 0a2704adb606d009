// The receive loop: sleep in poll(2) on the raw sockets (one per tunnel type: a real server
// may take IPIP, GUE and GRE at once, as a kernel one may have tunl0, fou and gre0), take a
// batch with recvmmsg, check each packet (outer-packet.ts), write each inner packet to the
// TUN device. It runs on the main thread in slices of SLICE_MS and then yields once to the
// event loop, where signals, the stats file and the address refresh are served: the loop
// itself allocates nothing per packet (counters in typed arrays, one reused result, cached
// write views).
import { PollSet } from "../../director/tun/poll.ts";
import { writeFd } from "../../director/tun/fd-io.ts";
import { Verdict, VERDICT_COUNT } from "./drop-reasons.ts";
import { type DecapPolicy, decapsulate, Decapsulated, type TunnelType } from "./outer-packet.ts";
import type { RawReceiver } from "./raw-receiver.ts";

/** How long one slice of the loop runs before the event loop gets a turn. */
export const SLICE_MS = 50;
/** Batches taken per wake-up before poll(2) is asked again. */
const MAX_BATCHES_PER_WAKE = 64;
/** Inner offsets up to this get a cached view for write(2); beyond, the packet is moved. */
const VIEW_OFFSETS = 256;

export type ReceiverLike = Pick<RawReceiver, "fd" | "batch" | "receive" | "slot" | "length">;

/** One tunnel type's raw socket and its counters. */
export class DecapChannel<R extends ReceiverLike = ReceiverLike> {
  /** Packets by verdict (index = Verdict code). */
  readonly counts = new Float64Array(VERDICT_COUNT);
  /** recvmmsg errors other than "nothing there", and the last errno. */
  receiveErrors = 0;
  lastReceiveErrno = 0;
  /** views[slot * VIEW_OFFSETS + offset]: slot buffer from offset on, made on first use. */
  readonly views: (Uint8Array | undefined)[];

  constructor(readonly type: TunnelType, readonly receiver: R) {
    this.views = new Array(receiver.batch * VIEW_OFFSETS);
  }
}

export class DecapLoop {
  private readonly out = new Decapsulated();
  private readonly poll: PollSet;
  private running = false;

  constructor(
    readonly channels: readonly DecapChannel[],
    private readonly tunFd: number,
    /** Read on every packet; the caller may swap its address sets at any time. */
    readonly policy: DecapPolicy,
  ) {
    this.poll = new PollSet(channels.map((c) => c.receiver.fd));
  }

  /** The channel of `type` (control path). */
  channel(type: TunnelType): DecapChannel | undefined {
    return this.channels.find((c) => c.type === type);
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
      const ready = this.poll.wait(left);
      for (let c = 0; c < this.channels.length; c++) {
        if ((ready & (1 << c)) !== 0) this.drain(this.channels[c]!);
      }
    }
  }

  private drain(channel: DecapChannel): void {
    const receiver = channel.receiver;
    for (let b = 0; b < MAX_BATCHES_PER_WAKE; b++) {
      const n = receiver.receive();
      if (n < 0) {
        channel.receiveErrors++;
        channel.lastReceiveErrno = -n;
        break;
      }
      for (let i = 0; i < n; i++) this.handle(channel, i);
      if (n < receiver.batch) break;
    }
  }

  /** Checks packet i of the channel's last batch and injects its inner packet or counts why not. */
  handle(channel: DecapChannel, i: number): void {
    const buf = channel.receiver.slot(i);
    const out = this.out;
    let verdict = decapsulate(buf, channel.receiver.length(i), channel.type, this.policy, out);
    if (verdict === Verdict.INJECT) {
      let offset = out.innerOffset;
      if (offset >= VIEW_OFFSETS) {
        buf.copyWithin(0, offset, offset + out.innerLength);
        offset = 0;
      }
      const at = i * VIEW_OFFSETS + offset;
      const view = channel.views[at] ?? (channel.views[at] = buf.subarray(offset));
      if (writeFd(this.tunFd, view, out.innerLength) !== out.innerLength) {
        verdict = Verdict.INJECT_FAILED;
      }
    }
    channel.counts[verdict]!++;
  }
}
