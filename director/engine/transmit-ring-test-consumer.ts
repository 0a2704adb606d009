// The consumer thread of transmit-ring.test.ts: checks each packet's content and length and
// records its sequence number in the shared `received` array ([0] = count so far).
import { workerData } from "node:worker_threads";
import { TransmitRing } from "./transmit-ring.ts";

const received = new Int32Array(workerData.received as SharedArrayBuffer);
new TransmitRing(workerData.ring).consume((buf, count) => {
  const seq = buf.readInt32LE(0);
  const intact = buf.readInt32LE(4) === seq * 7 && count === 8 + (seq % 50);
  received[++received[0]] = intact ? seq : -seq;
  return count;
});
