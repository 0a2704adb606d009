// The director process: opens the TUN device, configures its host, runs the packet worker
// and is the single place where the service table changes at run time (every change is a
// control request to the worker, which owns the tables).
import fs from "node:fs";
import { Worker } from "node:worker_threads";
import { MessageChannel } from "node:worker_threads";
import { openTun, type TunDevice } from "./tun/tun-device.ts";
import { createWakePipe } from "./tun/poll.ts";
import { HostSetup } from "./host/host-setup.ts";
import {
  CONTROL_OPS,
  type ControlRequest,
  type ControlResponse,
  type IpvsadmResult,
} from "./control/apply.ts";
import { serveControl } from "./control/socket.ts";
import type { Server } from "node:net";
import type { DirectorConfig } from "./config/service-config.ts";
import { configToCommands } from "./config/config-commands.ts";
import { defaultTimeouts } from "./protocols/timeouts.ts";
import type { PacketWorkerData } from "./engine/packet-worker.ts";
import type { TransmitWorkerData } from "./engine/transmit-worker.ts";
import { HANDOFF_NEVER, TransmitRing } from "./engine/transmit-ring.ts";
import { TUN_READ_BUFFER_SIZE } from "./tun/tun-device.ts";
import {
  DEFAULT_TUN_READ,
  resolveTunRead,
  type TunReadMode,
  type TunReadOption,
  URING_READ_BATCH,
} from "./tun/tun-reader.ts";
import { RouteNextHops } from "./net/route-next-hops.ts";

/** Packets queued between the packet and the transmit worker at most (64 KB each). */
const TRANSMIT_RING_SLOTS = 64;
/** Without a transmit worker the ring is only the packet thread's read buffer. */
const OWN_WRITES_RING_SLOTS = 2;
/**
 * auto: packets in a row without the TUN queue running empty before writes move to the
 * transmit worker. Measured with `npm run bench` (4, 16 and 64 tried): 16 keeps one stream on
 * one thread, where handing off costs about 20% on 2 cores, and gives the transmit thread the
 * short-packet loads (new connections, UDP) where it gains.
 */
export const AUTO_HANDOFF_BACKLOG = 16;
/**
 * Transmit threads (and rings), each writing the flows director/engine/flow-shard.ts gives
 * it: the kernel's forwarding inside write(2), the bound under load, runs on several cores.
 */
export const DEFAULT_TRANSMIT_THREADS = 1;
export const MAX_TRANSMIT_THREADS = 8;

/**
 * Where rewritten packets are written back to the TUN device: on the packet thread (off),
 * always on a transmit thread (always), or on the transmit thread when the packet thread
 * falls behind (auto).
 */
export const TRANSMIT_MODES = ["auto", "always", "off"] as const;
export type TransmitMode = typeof TRANSMIT_MODES[number];
/**
 * How VS/NAT's rewritten packets leave: in frames from the packet socket of the interface
 * their route leaves by (packet: director/net/nat-routes.ts), or written back into the TUN
 * device for the kernel to route and forward (tun).
 */
export const NAT_TRANSMIT_MODES = ["packet", "tun"] as const;
export type NatTransmitMode = typeof NAT_TRANSMIT_MODES[number];
export const DEFAULT_NAT_TRANSMIT: NatTransmitMode = "tun";
/** The routing table of the director's own rules (director/host/host-setup.ts). */
const DIRECTOR_TABLE = 100;
const WORKER_ENTRY = new URL("./engine/worker-entry.mjs", import.meta.url);

export interface DirectorOptions {
  tunName: string;
  privateDev?: string;
  offload: boolean;
  transmit: TransmitMode;
  /** How the packet worker reads the TUN device (director/tun/tun-reader.ts). */
  tunRead?: TunReadOption;
  natTransmit: NatTransmitMode;
  /** --transmit auto's threshold (packets in a row); default AUTO_HANDOFF_BACKLOG. */
  handoffBacklog?: number;
  /**
   * Whether frames (VS/DR, VS/NAT by packet sockets) are handed to the transmit worker under
   * backlog like TUN writes (default), or always sent by the packet thread (to compare).
   */
  frameHandoff?: boolean;
  /** Transmit threads when transmit is not off (default DEFAULT_TRANSMIT_THREADS). */
  transmitThreads?: number;
  /** Receive packet steering for the TUN device (director/host/rps.ts); unset: untouched. */
  rpsCpus?: string;
  /** Accept the bench's "fill" request (synthetic entries: director/engine/synthetic-fill.ts). */
  allowTestFill?: boolean;
  config: DirectorConfig;
}

type Pending = { resolve: (value: unknown) => void; reject: (err: Error) => void };
type RequestBody = ControlRequest extends infer R ? R extends unknown ? Omit<R, "id"> : never
  : never;

export class Director {
  private tun: TunDevice | null = null;
  private host: HostSetup | null = null;
  private worker: Worker | null = null;
  private transmitWorkers: Worker[] = [];
  private port: import("node:worker_threads").MessagePort | null = null;
  private wakeFds: [number, number] | null = null;
  private signal = new Int32Array(new SharedArrayBuffer(4));
  private nextId = 1;
  private controlServer: Server | null = null;
  private readonly pending = new Map<number, Pending>();
  /** Where VS/DR frames go: the next hop of each Route server, kept by this thread. */
  private readonly nextHops = new RouteNextHops({
    links: (links, hops) => this.request({ op: "links", links, hops }),
    tunnels: (hops) => this.request({ op: "tunnels", hops }),
    natRoutes: (routes) => this.request({ op: "natRoutes", routes }),
  });
  /** The table's Route and Tunnel servers, as the last answer from the worker listed them. */
  private routeServers: number[] = [];
  private tunnelServers: number[] = [];
  private natServers: number[] = [];

  /** How the packet worker reads the TUN device, and why auto fell back to read(2). */
  readonly tunRead: TunReadMode;
  readonly tunReadFallback: string | undefined;

  constructor(private readonly options: DirectorOptions) {
    const read = resolveTunRead(options.tunRead ?? DEFAULT_TUN_READ);
    this.tunRead = read.mode;
    this.tunReadFallback = read.why;
  }

  async start(): Promise<void> {
    const { config } = this.options;
    this.tun = openTun({ name: this.options.tunName, offload: this.options.offload });
    this.host = new HostSetup({
      tunName: this.tun.name,
      privateDev: this.options.privateDev,
      table: DIRECTOR_TABLE,
      rulePriority: 100,
      rpsCpus: this.options.rpsCpus,
    });
    this.host.apply();
    this.wakeFds = createWakePipe();
    const channel = new MessageChannel();
    this.port = channel.port1;
    const transmit = this.options.transmit;
    const threads = transmit === "off"
      ? 0
      : this.options.transmitThreads ?? DEFAULT_TRANSMIT_THREADS;
    const links = this.options.frameHandoff !== false
      ? Array.from({ length: threads }, () => new MessageChannel())
      : [];
    const rings = Array.from(
      { length: Math.max(threads, 1) },
      () =>
        TransmitRing.allocate(
          // A uring read batch fills that many slots before it publishes one.
          threads === 0 ? Math.max(OWN_WRITES_RING_SLOTS, URING_READ_BATCH) : TRANSMIT_RING_SLOTS,
          TUN_READ_BUFFER_SIZE,
        ),
    );
    const data: PacketWorkerData = {
      tunFd: this.tun.fd,
      wakeFd: this.wakeFds[0],
      port: channel.port2,
      signal: this.signal.buffer as SharedArrayBuffer,
      maxConnections: config.maxConnections,
      timeouts: { ...defaultTimeouts(), ...config.timeouts },
      secureTcp: config.secureTcp,
      rings,
      handoffBacklog: transmit === "always"
        ? 0
        : transmit === "auto"
        ? this.options.handoffBacklog ?? AUTO_HANDOFF_BACKLOG
        : HANDOFF_NEVER,
      transmitLinks: links.map((channel) => channel.port1),
      tunRead: this.tunRead,
      transmitThreads: threads,
    };
    const ready = new Promise<void>((resolve, reject) => {
      this.pending.set(0, { resolve: () => resolve(), reject });
    });
    for (let k = 0; k < threads; k++) {
      const linkPort = links[k]?.port2 ?? null;
      const transmitData: TransmitWorkerData = {
        tunFd: this.tun.fd,
        ring: rings[k]!,
        links: linkPort,
      };
      const worker = new Worker(WORKER_ENTRY, {
        workerData: { ...transmitData, module: workerModule("transmit-worker.ts") },
        transferList: linkPort ? [linkPort] : [],
      });
      this.watchWorker(worker, threads === 1 ? "transmit worker" : `transmit worker ${k + 1}`);
      this.transmitWorkers.push(worker);
    }
    this.worker = new Worker(WORKER_ENTRY, {
      workerData: { ...data, module: workerModule("packet-worker.ts") },
      transferList: [channel.port2, ...data.transmitLinks],
    });
    this.watchWorker(this.worker, "packet worker");
    this.port.on("message", (response: ControlResponse) => {
      const waiter = this.pending.get(response.id);
      if (!waiter) return;
      this.pending.delete(response.id);
      this.host!.syncVipRoutes(response.vips);
      this.routeServers = response.routeServers;
      this.tunnelServers = response.tunnelServers;
      this.natServers = response.natServers;
      if (response.ok) waiter.resolve(response.result);
      else waiter.reject(new Error(response.error));
    });
    await ready;
    await this.applyConfig(config);
    // Not waited for: until the worker has the routes, NAT packets go through the TUN device.
    if (this.options.natTransmit === "packet") {
      void this.nextHops.followNatRoutes({
        tunName: this.tun.name,
        tables: [String(DIRECTOR_TABLE)],
      });
    }
    this.controlServer = await serveControl((request) => this.control(request));
  }

  /** A request from the control socket: checked for a known operation, then sent to the worker. */
  control(request: Record<string, unknown>): Promise<unknown> {
    const op = request.op;
    if (typeof op !== "string" || !CONTROL_OPS.includes(op as ControlRequest["op"])) {
      throw new Error(
        `unknown control operation '${String(op)}'; known: ${CONTROL_OPS.join(", ")}`,
      );
    }
    if (op === "fill" && !this.options.allowTestFill) {
      throw new Error(
        "the fill request adds invented connection entries and is for the bench only; " +
          "start lvslab-director with --allow-test-fill to accept it",
      );
    }
    return this.answer(request as RequestBody);
  }

  /**
   * A request answered by the worker, completed here: a table change once the new Route
   * servers have their next hops (and, within a bound, their MACs); a snapshot with them.
   */
  private async answer(body: RequestBody): Promise<unknown> {
    const result = await this.request(body);
    // The next hops live on this thread: a snapshot gets them here.
    if (body.op === "snapshot") {
      return { ...(result as object), nextHops: this.nextHops.nextHops() };
    }
    if (body.op === "ipvsadm") {
      await this.nextHops.sync(this.routeServers, this.tunnelServers, this.natServers);
    }
    return result;
  }

  /** A worker that fails or ends fails every pending request: the director cannot go on. */
  private watchWorker(worker: Worker, name: string): void {
    worker.on("error", (err) => this.failAll(err));
    worker.on("exit", (code) => this.failAll(new Error(`${name} exited (${code})`)));
  }

  private failAll(err: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
  }

  /** Sends one control request to the packet worker and waits for its answer. */
  request(body: RequestBody): Promise<unknown> {
    const id = this.nextId++;
    const result = new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
    });
    this.port!.postMessage({ ...body, id });
    Atomics.store(this.signal, 0, 1);
    fs.writeSync(this.wakeFds![1], "w");
    return result;
  }

  /**
   * Loads the config file's table through the same all-or-nothing batch as ipvsadm -R, so
   * there is one way the table changes and a bad file changes nothing.
   */
  private async applyConfig(config: DirectorConfig): Promise<void> {
    const result = await this.answer({
      op: "ipvsadm",
      commands: configToCommands(config),
    }) as IpvsadmResult;
    if (result.refused !== null) {
      throw new Error(`the service table was refused: ${result.refused}`);
    }
    await this.request({ op: "sysctl", set: config.sysctl });
  }

  async stop(): Promise<void> {
    this.controlServer?.close();
    this.nextHops.stop();
    this.host?.teardown();
    for (const worker of [this.worker, ...this.transmitWorkers]) {
      worker?.removeAllListeners("exit");
      await worker?.terminate();
    }
    if (this.tun) fs.closeSync(this.tun.fd);
    this.tun = null;
  }
}

function workerModule(file: string): string {
  return new URL(`./engine/${file}`, import.meta.url).href;
}
