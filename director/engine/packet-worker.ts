// The packet loop, on a worker thread of its own so the main thread's event loop stays free
// for the control API. Packets are read from the TUN fd straight into a slot of the transmit
// ring and rewritten there; this thread writes them back itself until it falls behind the
// TUN queue, then queues them for the transmit worker (director/engine/transmit-ring.ts says
// why; with --transmit off there is no transmit worker and nothing is ever queued). The same
// holds for frames (VS/DR, VS/NAT with --nat-transmit packet): sent by this thread's packet
// sockets while it keeps up, queued with their next hop for the transmit worker's sockets
// under backlog. When the TUN queue is empty the worker sleeps in poll(2) on the TUN fd and a wake-up
// pipe, so control messages and timer expiry are handled promptly without a busy loop.
import fs from "node:fs";
import v8 from "node:v8";
import { receiveMessageOnPort, workerData } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";
import { DirectorEngine } from "./engine.ts";
import { pollReadable } from "../tun/poll.ts";
import { EAGAIN, EINTR, readFd, threadId, writeFd } from "../tun/fd-io.ts";
import { type TunReader, tunReader, type TunReadMode } from "../tun/tun-reader.ts";
import { TO_TUN, type TransmitRingMemory } from "./transmit-ring.ts";
import { TransmitRings } from "./transmit-rings.ts";
import { flowShard } from "./flow-shard.ts";
import type { LinkTableChange } from "./transmit-worker.ts";
import { NO_NEXT_HOP } from "../service/types.ts";
import {
  applyControl,
  type ControlRequest,
  type ControlResponse,
  tableAddresses,
} from "../control/apply.ts";
import type { Timeouts } from "../protocols/timeouts.ts";
import { isGsoPacket, VNET_HDR_LEN } from "../packet/vnet-header.ts";
import type { PacketPathCounters } from "../control/snapshot.ts";

export interface PacketWorkerData {
  tunFd: number;
  wakeFd: number;
  port: MessagePort;
  /** Int32Array over a SharedArrayBuffer: [0] = control messages pending. */
  signal: SharedArrayBuffer;
  maxConnections: number;
  timeouts: Timeouts;
  secureTcp: boolean;
  /**
   * The packet buffers, one ring per transmit worker (director/engine/flow-shard.ts picks the
   * ring of a flow); TUN reads land in the first and move to another only when handed off.
   */
  rings: TransmitRingMemory[];
  /**
   * Packets read in a row, without the TUN queue running empty, after which writes go to the
   * transmit worker (0: always; HANDOFF_NEVER, from transmit-ring.ts: this thread writes everything).
   */
  handoffBacklog: number;
  /** To each transmit worker: the link-table changes applied here (none: frames stay here). */
  transmitLinks: MessagePort[];
  /** One read(2) per packet, or batches of reads per io_uring_enter (director/tun/tun-reader.ts). */
  tunRead: TunReadMode;
  /** Transmit workers consuming the rings (0: --transmit off, the first ring is only read into). */
  transmitThreads: number;
}

/** Packets handled between two looks at the clock and the control port. */
const BATCH = 64;
const IDLE_POLL_MS = 100;
/** ICMP errors read from the raw ICMP socket at one look (the rest wait for the next). */
const ICMP_BURST = 16;

/**
 * LVSLAB_WORKER_STATS=<file>: once a second the worker appends a JSON line
 * {"t": ms since epoch, "packets": read so far, "heapUsed": bytes, "gcCount": n, "gcMs": ms}
 * (GC totals since start, from v8.GCProfiler). The bench reads it as the evidence that the
 * steady path does not allocate. Unset (the default), it costs one null check per batch.
 */
class WorkerStats {
  private readonly profiler = new v8.GCProfiler();
  private lastMs = 0;
  private gcCount = 0;
  private gcMs = 0;

  constructor(private readonly file: string) {
    this.profiler.start();
  }

  sample(nowMs: number, packets: number): void {
    if (nowMs - this.lastMs < 1000) return;
    this.lastMs = nowMs;
    const gcs = this.profiler.stop().statistics;
    this.profiler.start();
    this.gcCount += gcs.length;
    for (const gc of gcs) this.gcMs += gc.cost / 1000;
    const heapUsed = v8.getHeapStatistics().used_heap_size;
    // Wall-clock time: the bench matches lines to its load windows.
    const line = { t: Date.now(), packets, heapUsed, gcCount: this.gcCount, gcMs: this.gcMs };
    fs.appendFileSync(this.file, JSON.stringify(line) + "\n");
  }
}

/**
 * ICMP errors about tunnel packets (director/icmp/tunnel-icmp.ts): read after the vnet header's
 * room, answered in place, written to the TUN device like the engine's answers.
 */
function tunnelIcmpReader(engine: DirectorEngine, rings: TransmitRings, tunFd: number): () => void {
  const icmpBuf = new Uint8Array(VNET_HDR_LEN + 65535);
  const icmpRead = icmpBuf.subarray(VNET_HDR_LEN);
  return (): void => {
    const fd = engine.tunnels.icmpFd;
    if (fd < 0) return;
    for (let k = 0; k < ICMP_BURST; k++) {
      const n = readFd(fd, icmpRead, icmpRead.length);
      if (n <= 0) return;
      const out = engine.processTunnelIcmp(icmpBuf, VNET_HDR_LEN + n);
      if (out > 0) rings.countOwnWrite(writeFd(tunFd, icmpBuf, out));
    }
  };
}

/** Answers every control request the main thread has queued (off the packet path). */
function answerControl(
  engine: DirectorEngine,
  data: PacketWorkerData,
  rings: TransmitRings,
  signal: Int32Array,
  counters: PacketPathCounters,
): void {
  const port = data.port;
  Atomics.store(signal, 0, 0);
  for (;;) {
    const message = receiveMessageOnPort(port);
    if (message === undefined) break;
    const request = message.message as ControlRequest;
    let response: ControlResponse;
    try {
      const result = applyControl(engine, request, counters);
      if (request.op === "links") {
        // The transmit workers' tables follow, before any slot names one of these next hops.
        const change: LinkTableChange = { links: request.links, hops: request.hops };
        for (const port of data.transmitLinks) port.postMessage(change);
        rings.linkTableChanged();
      }
      response = { id: request.id, ok: true, result, ...tableAddresses(engine) };
    } catch (err) {
      const error = (err as Error).message;
      response = { id: request.id, ok: false, error, ...tableAddresses(engine) };
    }
    port.postMessage(response);
  }
}

/**
 * Queues the packet the reader read last, rewritten (`length` bytes), on ring `shard`: in
 * place on the first ring, where it was read; copied into a slot of another.
 */
function handToRing(
  reader: TunReader,
  rings: TransmitRings,
): (shard: number, length: number, hop: number) => void {
  return (shard, length, hop) => {
    if (shard === 0) return reader.publish(length, hop);
    const ring = rings.rings[shard]!;
    reader.buf.copy(ring.freeSlot(), 0, 0, length);
    ring.publish(length, hop);
  };
}

/** Tells the main thread the loop runs (the control response with id 0). */
function announceReady(port: MessagePort): void {
  port.postMessage(
    {
      id: 0,
      ok: true,
      result: "ready",
      vips: [],
      routeServers: [],
      tunnelServers: [],
      natServers: [],
    } satisfies ControlResponse,
  );
}

function run(data: PacketWorkerData): void {
  // The engine's clock counts milliseconds from here: small integers for 24 days, where
  // Date.now()'s 1.7e12 would be boxed in a heap number at each call that passes it on.
  const clockStart = Date.now();
  const engine = new DirectorEngine({
    maxConnections: data.maxConnections,
    timeouts: data.timeouts,
    secureTcp: data.secureTcp,
    nowMs: 0,
  });
  const signal = new Int32Array(data.signal);
  const port = data.port;
  const rings = new TransmitRings(data.rings, data.transmitThreads);
  // Reads land in the first ring's slots (a packet handed to another ring is copied there).
  const reader = tunReader(data.tunRead, data.tunFd, rings.rings[0]!, data.rings[0]!);
  const wakeBuf = Buffer.allocUnsafe(64);
  const readTunnelIcmp = tunnelIcmpReader(engine, rings, data.tunFd);
  let packets = 0;
  const tid = threadId();
  // Reads that brought a GSO super-packet (up to 64 KB): the evidence that the offload works.
  let superPackets = 0;
  const pathCounters = (): PacketPathCounters => ({
    packetsRead: packets,
    superPacketsRead: superPackets,
    writtenByPacketThread: rings.writtenByPacketThread,
    writtenByTransmitWorker: rings.writtenByTransmitWorker,
    writeErrors: rings.writeErrors,
    framesSentByTransmitWorker: rings.framesSentByTransmitWorker,
    transmitFrameSendCalls: rings.transmitFrameSendCalls,
    transmitFrameSendErrors: rings.transmitFrameSendErrors,
    packetThreadId: tid,
    transmitThreadIds: rings.consumerThreadIds,
    sentByTransmitThread: rings.sentByConsumer,
  });
  const statsFile = process.env.LVSLAB_WORKER_STATS;
  const stats = statsFile ? new WorkerStats(statsFile) : null;

  const drainControl = (): void => answerControl(engine, data, rings, signal, pathCounters());

  const idle = (): void => {
    const now = Date.now() - clockStart;
    engine.tick(now);
    if (stats !== null) stats.sample(now, packets);
    // The main thread sets the signal before it writes the wake-up pipe: checking it here
    // misses nothing and spares a message-port call each time the loop catches up.
    if (Atomics.load(signal, 0) !== 0) drainControl();
    const ready = pollReadable(data.tunFd, data.wakeFd, IDLE_POLL_MS, engine.tunnels.icmpFd);
    if (ready & 2) {
      while (readFd(data.wakeFd, wakeBuf, wakeBuf.length) > 0);
    }
    if (ready & 4) readTunnelIcmp();
  };

  announceReady(port);
  let sinceTick = 0;
  // Packets read since the TUN queue was last found empty: a long run means this thread is
  // the bottleneck, and writing moves to the transmit worker.
  let backlog = 0;
  const handoffBacklog = data.handoffBacklog;
  const links = engine.links;
  // Frames go to the transmit worker only where there is one that can send them.
  const framesHandOff = data.transmitLinks.length > 0;
  let handingOff = false;
  const shards = rings.count;
  const handTo = handToRing(reader, rings);
  for (;;) {
    // read(2)/write(2) through koffi (director/tun/fd-io.ts): an empty queue is -1/EAGAIN,
    // not a thrown Error, so catching up with the kernel allocates nothing.
    const n = reader.read();
    const buf = reader.buf;
    if (n < 0) {
      const errno = -n;
      if (errno !== EAGAIN && errno !== EINTR) {
        throw new Error(`reading the TUN device failed (errno ${errno})`);
      }
      backlog = 0;
      // The queue ran empty: DR frames and TUN packets of this burst leave now (sendmmsg).
      engine.links.flush();
      engine.tunnels.flush();
      idle();
      continue;
    }
    packets++;
    backlog++;
    if (isGsoPacket(buf)) superPackets++;
    // Hand off under backlog, and while the flow's ring holds packets (order is kept);
    // otherwise write here: a lightly loaded director is faster writing on one thread than
    // waking another, and a single stream keeps its whole path on one core.
    const shard = shards === 1 ? 0 : flowShard(buf, VNET_HDR_LEN, n, shards);
    const handOff = backlog > handoffBacklog || !rings.rings[shard]!.empty();
    if (handOff !== handingOff) {
      // Frames this thread queued leave before any packet handed off after them.
      if (handOff) links.flush();
      handingOff = handOff;
    }
    links.handOff = handOff && framesHandOff ? buf : null;
    const out = engine.process(buf, n);
    if (out > 0) {
      if (handOff) handTo(shard, out, TO_TUN);
      else rings.countOwnWrite(writeFd(data.tunFd, buf, out));
    } else if (links.handedHop !== NO_NEXT_HOP) {
      handTo(shard, links.handedLength, links.handedHop);
      links.handedHop = NO_NEXT_HOP;
    }
    if (++sinceTick === BATCH) {
      sinceTick = 0;
      engine.links.flush();
      engine.tunnels.flush();
      const now = Date.now() - clockStart;
      engine.tick(now);
      if (stats !== null) stats.sample(now, packets);
      if (Atomics.load(signal, 0) !== 0) drainControl();
      // Under load the loop never sleeps in poll: the ICMP socket is looked at here too.
      readTunnelIcmp();
    }
  }
}

run(workerData as PacketWorkerData);
