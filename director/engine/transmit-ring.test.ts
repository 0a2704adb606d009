import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { type FrameSink, TO_TUN, TransmitRing } from "./transmit-ring.ts";

const SLOT_SIZE = 64;

/** Fills the next free slot with `count` bytes of `value` and publishes it. */
function send(ring: TransmitRing, value: number, count: number): void {
  ring.freeSlot().fill(value, 0, count);
  ring.publish(count);
}

test("packets are written in the order they were published, each with its own length", () => {
  const memory = TransmitRing.allocate(8, SLOT_SIZE);
  const ring = new TransmitRing(memory);
  for (let i = 1; i <= 5; i++) send(ring, i, i * 3);
  // A slot filled but not published (a dropped packet) is reused, never written.
  ring.freeSlot().fill(99, 0, 10);
  send(ring, 6, 18);
  ring.stop();
  const written: number[][] = [];
  new TransmitRing(memory).consume((buf, count) => {
    written.push([...buf.subarray(0, count)]);
    return count;
  });
  assert.deepEqual(written.map((bytes) => bytes.length), [3, 6, 9, 12, 15, 18]);
  assert.deepEqual(written.map((bytes) => bytes[0]), [1, 2, 3, 4, 5, 6]);
  assert.ok(written.every((bytes) => bytes.every((b) => b === bytes[0])));
});

test("failed writes are counted", () => {
  const memory = TransmitRing.allocate(4, SLOT_SIZE);
  const ring = new TransmitRing(memory);
  send(ring, 1, 1);
  send(ring, 2, 1);
  send(ring, 3, 1);
  ring.stop();
  new TransmitRing(memory).consume((buf) => buf[0] === 2 ? -1 : 1);
  assert.equal(ring.writeErrors, 1);
  assert.equal(ring.writtenByTransmitWorker, 2, "the two good writes");
});

test("each thread's writes are counted apart: the producer's own and the consumer's", () => {
  const memory = TransmitRing.allocate(4, SLOT_SIZE);
  const ring = new TransmitRing(memory);
  ring.countOwnWrite(60);
  ring.countOwnWrite(-1);
  ring.countOwnWrite(60);
  send(ring, 1, 1);
  ring.stop();
  new TransmitRing(memory).consume(() => 1);
  assert.equal(ring.writtenByPacketThread, 2);
  assert.equal(ring.writtenByTransmitWorker, 1);
  assert.equal(ring.writeErrors, 1);
});

test("the slot count must be a power of two", () => {
  assert.throws(() => TransmitRing.allocate(6, SLOT_SIZE), /power-of-two slot count, not 6/);
});

test("across threads, 20,000 packets through 8 slots arrive complete and in order", async () => {
  const memory = TransmitRing.allocate(8, SLOT_SIZE);
  const ring = new TransmitRing(memory);
  const received = new Int32Array(new SharedArrayBuffer(4 * 20_001));
  const consumer = new Worker(new URL("./worker-entry.mjs", import.meta.url), {
    workerData: {
      module: new URL("./transmit-ring-test-consumer.ts", import.meta.url).href,
      ring: memory,
      received: received.buffer,
    },
  });
  const exited = new Promise<number>((resolve, reject) => {
    consumer.on("exit", resolve);
    consumer.on("error", reject);
  });
  for (let i = 1; i <= 20_000; i++) {
    const slot = ring.freeSlot();
    slot.writeInt32LE(i, 0);
    slot.writeInt32LE(i * 7, 4);
    ring.publish(8 + (i % 50));
  }
  ring.stop();
  assert.equal(await exited, 0);
  assert.equal(received[0], 20_000, "packets received");
  assert.equal(
    ring.writtenByTransmitWorker,
    20_000,
    "counted by the consumer, seen by the producer",
  );
  for (let i = 1; i <= 20_000; i++) {
    if (received[i] !== i) assert.fail(`packet ${i} arrived as ${received[i]}`);
  }
});

test("slots with a next hop go to the frame sink, sent before any later TUN write, in order", () => {
  const memory = TransmitRing.allocate(8, SLOT_SIZE);
  const ring = new TransmitRing(memory);
  const publishTo = (value: number, hop: number) => {
    ring.freeSlot().fill(value, 0, 4);
    ring.publish(4, hop);
  };
  ring.linkTableChanged();
  publishTo(1, 7);
  publishTo(2, 7);
  publishTo(3, TO_TUN);
  publishTo(4, 2);
  assert.equal(ring.empty(), false);
  ring.stop();
  const events: string[] = [];
  let queued: number[] = [];
  const sink: FrameSink = {
    queue: (hop, buf, length) => queued.push(hop * 100 + buf[0]! + length * 0),
    flush() {
      events.push(`sent ${queued.join(",")}`);
      queued = [];
    },
    reconfigure: () => events.push("reconfigured"),
    countersInto(out, at) {
      out[at] = 3;
      out[at + 1] = 2;
      out[at + 2] = 0;
    },
  };
  new TransmitRing(memory).consume((buf) => {
    events.push(`tun ${buf[0]}`);
    return 4;
  }, sink);
  // The change posted before the slots is applied first; frames 1 and 2 (hop 7) leave before
  // packet 3's TUN write; frame 4 leaves before the ring reports itself drained.
  assert.deepEqual(events, ["reconfigured", "sent 701,702", "tun 3", "sent 204"]);
  assert.equal(ring.empty(), true);
  assert.equal(ring.writtenByTransmitWorker, 1);
  assert.equal(ring.framesSentByTransmitWorker, 3);
  assert.equal(ring.transmitFrameSendCalls, 2);
});
