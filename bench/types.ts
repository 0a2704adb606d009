// The shapes the bench's parts exchange and the JSON it writes.

export type PeerId =
  | "kernel"
  | "nft"
  | "haproxy"
  | "lvslab"
  | "lvslab-packet"
  | "lvslab-dr"
  | "lvslab-tun";

/** One number measured for one peer. */
export interface Measurement {
  metric: string;
  peer: PeerId;
  /** null: not measurable for this peer (e.g. UDP through HAProxy); `note` says why. */
  value: number | null;
  note?: string;
  /** With several rounds: each round's value, in order; `value` is their median. */
  samples?: (number | null)[];
}

/** Syscalls of one load run by director thread, and their total. */
export interface SyscallSplit {
  packet: number;
  transmit: number;
  other: number;
  total: number;
}

/** One lvslab peer's syscalls over one load run (bench/metrics/syscalls.ts). */
export interface SyscallSample {
  peer: PeerId;
  /** The load's metric key (tcp1Up, connRate, udpPps, ...). */
  load: string;
  packetsRead: number;
  syscalls: SyscallSplit;
  /** syscalls ÷ packetsRead, by thread (null: no packet read). */
  perPacket: SyscallSplit | null;
}

/** How a metric is shown. */
export interface MetricSpec {
  key: string;
  label: string;
  unit: string;
  better: "higher" | "lower";
  decimals: number;
}

/** The director's engine alone, without a network (lvslab only). */
export interface ConnTableResult {
  connections: number;
  /** RSS and heap+array-buffer growth from before the engine existed to the full table. */
  rssBytesPerConn: number;
  heapBytesPerConn: number;
  /** Memory of the empty table at this capacity (the table is preallocated). */
  emptyRssBytesPerConn: number;
  /** findInbound on existing entries, random order. */
  lookupNs: number;
  /** engine.process() of an ACK on an existing connection (lookup + state + rewrite). */
  processNs: number;
  /** engine.process() of a SYN that creates an entry. */
  insertNs: number;
  /** GCs during the established-packet loop, per million packets. */
  gcPerMillionPackets: number;
}

/** The packet worker's heap and GC counters during the lvslab load runs. */
export interface WorkerGcResult {
  packets: number;
  gcCount: number;
  gcMs: number;
  gcPerMillionPackets: number;
  /** Heap growth per packet over the GC-free sample intervals (null: a GC in every one). */
  allocatedBytesPerPacket: number | null;
  samples: number;
}

export interface ProfileResult {
  /** Which director thread (absent in results from before the transmit thread: the packet worker). */
  thread?: string;
  /** What load the profile covers. */
  load: string;
  sampledMs: number;
  top: { name: string; selfMs: number; share: number }[];
}

export interface BenchResult {
  command: string;
  date: string;
  machine: {
    cpus: number;
    kernel: string;
    node: string;
    clockTicksPerSecond: number;
    /** The kernel's build line (uname -v; absent in older results). */
    kernelBuild?: string;
    /** One fs.writeSync of 64 bytes to /dev/null, µs: the host's syscall cost (bench/host.ts). */
    writeSyncMicros?: number;
  };
  /** The commit the bench ran on, "+dirty" when the work tree had changes (absent in older results). */
  commit?: string;
  seconds: number;
  quick: boolean;
  /** Rounds of all peers (absent in results from before rounds: 1). */
  rounds?: number;
  peers: { id: PeerId; label: string }[];
  measurements: Measurement[];
  connTable: ConnTableResult | null;
  workerGc: WorkerGcResult | null;
  /**
   * Each lvslab load run's director syscalls by thread and per packet read, every round
   * (bench/metrics/syscalls.ts; absent in older results).
   */
  syscalls?: SyscallSample[];
  /** The packet worker's profile, one per profiled load. */
  profiles: ProfileResult[];
  warnings: string[];
}

/** What one load run at one scaling point measured. */
export interface ScalingSample {
  connRate: number;
  latP50Ms: number | null;
  latP99Ms: number | null;
  /** Director process CPU time ÷ the packets it counted (in + out) during the load. */
  cpuPerPacketNs: number | null;
  /** Director process CPU time ÷ the requests wrk completed (one connection each). */
  cpuPerConnUs: number | null;
  packets: number;
  requests: number;
  /** wrk's socket errors and non-2xx answers. */
  errors: number;
  /** Table points with a fill: how long the fill took, and the director's RSS growth per entry. */
  fillMs?: number;
  rssBytesPerEntry?: number;
}

/** One point of `--scaling`: the median of its rounds, and each round's sample. */
export interface ScalingPoint extends ScalingSample {
  /** What varies: entries in the table, real servers of the service, services on the VIP. */
  dimension: "table" | "servers" | "services";
  /** Its value at this point. */
  at: number;
  samples: ScalingSample[];
}

/** `npm run bench -- --scaling`: how the director's cost grows (bench/scaling/). */
export interface ScalingResult {
  kind: "scaling";
  command: string;
  date: string;
  machine: BenchResult["machine"];
  commit?: string;
  seconds: number;
  rounds: number;
  /** Every service's scheduler. */
  scheduler: string;
  /** The director's table limit at every point. */
  maxConnections: number;
  points: ScalingPoint[];
  /** The engine alone (no network) at each table size. */
  memory: ConnTableResult[];
  /** The SVG files written, beside the JSON and latest.md (bench/results/scaling/). */
  plots: string[];
  warnings: string[];
}
