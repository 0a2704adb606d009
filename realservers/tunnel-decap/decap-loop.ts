// The receive loop: sleep in poll(2) on the raw sockets (one per tunnel type: a real server
// may take IPIP, GUE and GRE at once, as a kernel one may have tunl0, fou and gre0), take a
// batch with recvmmsg, check each packet (outer-packet.ts), hand each inner packet to the
// channel's TcpMerger (tcp-merge.ts), which merges a flow's consecutive TCP segments of the
// batch into super-packets and writes to the TUN device; the batch's end writes what is
// pending. It runs on the main thread in slices of SLICE_MS and then yields once to the
// event loop, where signals, the stats file and the address refresh are served: the loop
// itself allocates nothing per packet (counters in typed arrays, one reused result, cached
// write views).
import { PollSet } from "../../director/tun/poll.ts";
import { writeFd } from "../../director/tun/fd-io.ts";
import { Verdict, VERDICT_COUNT } from "./drop-reasons.ts";
import { type DecapPolicy, decapsulate, Decapsulated, type TunnelType } from "./outer-packet.ts";
import type { RawReceiver } from "./raw-receiver.ts";
import { TcpMerger } from "./tcp-merge.ts";

/** How long one slice of the loop runs before the event loop gets a turn. */
export const SLICE_MS = 50;
/** Batches taken per wake-up before poll(2) is asked again. */
const MAX_BATCHES_PER_WAKE = 64;
export type ReceiverLike = Pick<
  RawReceiver,
  "fd" | "batch" | "receive" | "slot" | "length" | "mergeArea"
>;

/** One tunnel type's raw socket and its counters. */
export class DecapChannel<R extends ReceiverLike = ReceiverLike> {
  /** Packets by verdict (index = Verdict code). */
  readonly counts = new Float64Array(VERDICT_COUNT);
  /** recvmmsg errors other than "nothing there", and the last errno. */
  receiveErrors = 0;
  lastReceiveErrno = 0;
  /** Merges and writes this channel's inner packets (set by the DecapLoop it joins). */
  merger: TcpMerger | null = null;

  constructor(readonly type: TunnelType, readonly receiver: R) {}
}

export class DecapLoop {
  private readonly out = new Decapsulated();
  private readonly poll: PollSet;
  private running = false;

  constructor(
    readonly channels: readonly DecapChannel[],
    tunFd: number,
    /** Read on every packet; the caller may swap its address sets at any time. */
    readonly policy: DecapPolicy,
  ) {
    this.poll = new PollSet(channels.map((c) => c.receiver.fd));
    const write = (buf: Uint8Array, count: number) => writeFd(tunFd, buf, count);
    for (const c of channels) c.merger = new TcpMerger(c.receiver.mergeArea, write);
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
      this.handleBatch(channel, n);
      if (n < receiver.batch) break;
    }
  }

  /** Handles packets [0, n) of the channel's last batch, then writes what is pending. */
  handleBatch(channel: DecapChannel, n: number): void {
    for (let i = 0; i < n; i++) this.handle(channel, i);
    this.countFailed(channel, channel.merger!.flush());
  }

  /**
   * Checks packet i of the channel's last batch and hands its inner packet to the merger, or
   * counts why not. The merger may hold it until handleBatch's end.
   */
  handle(channel: DecapChannel, i: number): void {
    const buf = channel.receiver.slot(i);
    const out = this.out;
    const verdict = decapsulate(buf, channel.receiver.length(i), channel.type, this.policy, out);
    channel.counts[verdict]!++;
    if (verdict === Verdict.INJECT) {
      const failed = channel.merger!.add(buf.byteOffset + out.innerOffset, out.innerLength);
      this.countFailed(channel, failed);
    }
  }

  /** Packets counted as injected whose write(2) failed move to INJECT_FAILED. */
  private countFailed(channel: DecapChannel, failed: number): void {
    if (failed === 0) return;
    channel.counts[Verdict.INJECT]! -= failed;
    channel.counts[Verdict.INJECT_FAILED]! += failed;
  }
}
