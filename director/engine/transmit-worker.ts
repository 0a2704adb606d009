// The transmit loop, on a worker thread of its own: writes the packets the packet worker
// rewrote back to the TUN device, and sends those it queued with a next hop as frames from
// packet sockets of its own, in order (director/engine/transmit-ring.ts says why). The link
// table changes the packet worker applies reach it on `links`, a message port it reads
// (without the event loop: this thread never returns to it) when the ring says they moved.
import { receiveMessageOnPort, workerData } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";
import { type FrameSink, TransmitRing, type TransmitRingMemory } from "./transmit-ring.ts";
import { threadId, writeFd } from "../tun/fd-io.ts";
import { type LinkDescription, LinkTable, type NextHopDescription } from "../net/link-table.ts";

/** One link-table change, as the packet worker applied it. */
export interface LinkTableChange {
  links: LinkDescription[];
  hops: NextHopDescription[];
}

export interface TransmitWorkerData {
  tunFd: number;
  ring: TransmitRingMemory;
  /** Link-table changes from the packet worker (null: frames stay on the packet thread). */
  links: MessagePort | null;
}

/** The transmit worker's frames: its own link table, kept equal to the packet worker's. */
function frameSink(port: MessagePort): FrameSink {
  const table = new LinkTable();
  return {
    queue: (hop, buf, length) => table.queue(hop, buf, length),
    flush: () => table.flush(),
    reconfigure() {
      for (;;) {
        const message = receiveMessageOnPort(port);
        if (message === undefined) return;
        const change = message.message as LinkTableChange;
        table.configure(change.links, change.hops);
      }
    },
    countersInto: (out, at) => table.countersInto(out, at),
  };
}

function run(data: TransmitWorkerData): void {
  const fd = data.tunFd;
  const ring = new TransmitRing(data.ring);
  ring.consumerThreadId = threadId();
  const frames = data.links === null ? null : frameSink(data.links);
  ring.consume((buf, count) => writeFd(fd, buf, count), frames);
}

run(workerData as TransmitWorkerData);
