// The packet worker's side of its transmit rings: one per transmit worker, each a
// single-producer, single-consumer ring (./transmit-ring.ts). With several, a flow keeps one
// ring (./flow-shard.ts), so its packets leave in the order they were read; counters are
// the sums over the rings, for lvs-stats.
import { TransmitRing, type TransmitRingMemory } from "./transmit-ring.ts";

export class TransmitRings {
  readonly rings: TransmitRing[];

  /**
   * `consumers`: the transmit workers reading the rings, one per ring, or none (--transmit
   * off: the one ring is only the packet thread's read buffer).
   */
  constructor(memories: TransmitRingMemory[], private readonly consumers: number) {
    if (memories.length === 0) throw new Error("the packet worker needs at least one ring");
    this.rings = memories.map((memory) => new TransmitRing(memory));
  }

  /** How many rings (transmit workers) there are: the shard count. */
  get count(): number {
    return this.rings.length;
  }

  /** Counts a write the packet thread made itself (on the first ring's counters). */
  countOwnWrite(result: number): void {
    this.rings[0]!.countOwnWrite(result);
  }

  /** Tells every consumer the link table changed (after the change was posted to each). */
  linkTableChanged(): void {
    for (const ring of this.rings) ring.linkTableChanged();
  }

  private sum(counter: (ring: TransmitRing) => number): number {
    let total = 0;
    for (const ring of this.rings) total += counter(ring);
    return total;
  }

  get writtenByPacketThread(): number {
    return this.sum((ring) => ring.writtenByPacketThread);
  }
  get writtenByTransmitWorker(): number {
    return this.sum((ring) => ring.writtenByTransmitWorker);
  }
  get framesSentByTransmitWorker(): number {
    return this.sum((ring) => ring.framesSentByTransmitWorker);
  }
  get transmitFrameSendCalls(): number {
    return this.sum((ring) => ring.transmitFrameSendCalls);
  }
  get transmitFrameSendErrors(): number {
    return this.sum((ring) => ring.transmitFrameSendErrors);
  }
  get writeErrors(): number {
    return this.sum((ring) => ring.writeErrors);
  }

  /** Packets each consumer wrote to the TUN device or sent as frames, by ring ([]: none). */
  get sentByConsumer(): number[] {
    return this.withConsumers().map((ring) =>
      ring.writtenByTransmitWorker + ring.framesSentByTransmitWorker
    );
  }

  /** The consumers' Linux thread ids (0 for one not yet running; []: none). */
  get consumerThreadIds(): number[] {
    return this.withConsumers().map((ring) => ring.consumerThreadId);
  }

  private withConsumers(): TransmitRing[] {
    return this.consumers === 0 ? [] : this.rings;
  }
}
