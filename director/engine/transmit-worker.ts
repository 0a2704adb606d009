// The transmit loop, on a worker thread of its own: writes the packets the packet worker
// rewrote back to the TUN device, in order (director/engine/transmit-ring.ts says why).
import { workerData } from "node:worker_threads";
import { TransmitRing, type TransmitRingMemory } from "./transmit-ring.ts";
import { writeFd } from "../tun/fd-io.ts";

export interface TransmitWorkerData {
  tunFd: number;
  ring: TransmitRingMemory;
}

function run(data: TransmitWorkerData): void {
  const fd = data.tunFd;
  new TransmitRing(data.ring).consume((buf, count) => writeFd(fd, buf, count));
}

run(workerData as TransmitWorkerData);
