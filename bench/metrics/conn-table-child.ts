// Run by conn-table.ts in a process of its own (node --expose-gc): builds a DirectorEngine
// with room for N connections (up to 4,128,768: the client pairs of the synthetic fill), opens N connections through engine.process() with SYN
// packets, and measures memory per connection, lookup cost and per-packet engine cost.
// Prints one JSON line (ConnTableResult). No network, no TUN.
import v8 from "node:v8";
import { DirectorEngine } from "../../director/engine/engine.ts";
import { buildPacket, Rng } from "../../director/packet/test-support.ts";
import { NO_SLOT } from "../../director/engine/conn-table.ts";
import { parseCidr, parseIPv4 } from "../../director/net/ipv4-address.ts";
import {
  FILL_CLIENTS,
  FILL_PORTS_PER_ADDRESS,
  syntheticClientAddr,
  syntheticClientPort,
} from "../../director/engine/synthetic-fill.ts";
import type { ConnTableResult } from "../types.ts";

const N = Number(process.argv[process.argv.indexOf("--connections") + 1]) || 1_000_000;
const VIP = parseIPv4("203.0.113.5")!;
// The clients of the director's synthetic fill (the scaling bench's): distinct pairs for 4M.
const CLIENTS = parseCidr(FILL_CLIENTS)!;
const MAX_CLIENTS = 2 ** (32 - CLIENTS.bits) * FILL_PORTS_PER_ADDRESS;
if (N > MAX_CLIENTS) throw new Error(`at most ${MAX_CLIENTS} connections`);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

// Offsets in a TUN buffer: 10-byte vnet header, 20-byte IPv4 header, then TCP.
const SRC_AT = 10 + 12;
const SPORT_AT = 30;
const FLAGS_AT = 30 + 13;

function memory(): { rss: number; heap: number } {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.arrayBuffers };
}

function template(flags: number): Uint8Array {
  const p = buildPacket(new Rng(7), {
    proto: 6,
    payloadLen: 0,
    src: CLIENTS.addr,
    dst: VIP,
    sport: 1024,
    dport: 80,
  });
  p[FLAGS_AT] = flags;
  return p;
}

function clientAddr(i: number): number {
  return syntheticClientAddr(CLIENTS.addr, i);
}

function clientPort(i: number): number {
  return syntheticClientPort(i);
}

/** Client address and port of connection i (distinct for i < MAX_CLIENTS). */
function setClient(buf: Uint8Array, i: number): void {
  const addr = clientAddr(i);
  for (let b = 0; b < 4; b++) buf[SRC_AT + b] = (addr >>> (24 - 8 * b)) & 0xff;
  const port = clientPort(i);
  buf[SPORT_AT] = port >>> 8;
  buf[SPORT_AT + 1] = port & 0xff;
}

/** A fixed pseudo-random permutation of 0..n-1 (so lookups miss the cache as in life). */
function shuffled(n: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const rng = new Rng(42);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/** Sends every connection in `order` one packet built from `tpl`; returns ns per packet. */
function pass(engine: DirectorEngine, tpl: Uint8Array, order: Uint32Array, run: boolean): number {
  const buf = new Uint8Array(tpl.length);
  const t0 = process.hrtime.bigint();
  let forwarded = 0;
  for (let k = 0; k < order.length; k++) {
    buf.set(tpl);
    setClient(buf, order[k]);
    if (run) forwarded += engine.process(buf, buf.length) > 0 ? 1 : 0;
    else forwarded += buf[SPORT_AT + 1] >= 0 ? 1 : 0;
  }
  const ns = Number(process.hrtime.bigint() - t0) / order.length;
  if (forwarded !== order.length) {
    throw new Error(`${order.length - forwarded} of ${order.length} packets were not forwarded`);
  }
  return ns;
}

function main(): void {
  const before = memory();
  const engine = new DirectorEngine({ maxConnections: N, nowMs: 0 });
  engine.services.addService({ protocol: "tcp", addr: VIP, port: 80, schedulerName: "rr" });
  for (const rs of ["172.16.0.2", "172.16.0.3"]) {
    engine.services.addDestination("tcp", VIP, 80, {
      addr: parseIPv4(rs)!,
      port: 80,
      weight: 1,
      method: "masq",
    });
  }
  const empty = memory();

  const inOrder = new Uint32Array(N);
  for (let i = 0; i < N; i++) inOrder[i] = i;
  // Copying the template costs the same in both loops: subtract it.
  const copyNs = pass(engine, template(0x02), inOrder, false);
  const insertNs = pass(engine, template(0x02), inOrder, true) - copyNs;
  if (engine.conns.size !== N) {
    throw new Error(`the table holds ${engine.conns.size} connections, expected ${N}`);
  }
  const full = memory();

  const order = shuffled(N);
  const conns = engine.conns;
  let found = 0;
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < N; k++) {
    const i = order[k];
    if (conns.findInbound(6, clientAddr(i), clientPort(i), VIP, 80) !== NO_SLOT) found++;
  }
  const lookupNs = Number(process.hrtime.bigint() - t0) / N;
  if (found !== N) throw new Error(`${N - found} of ${N} lookups missed`);

  const ack = template(0x10);
  pass(engine, ack, order, true); // SYN_RECV → ESTABLISHED, and warms the JIT
  const profiler = new v8.GCProfiler();
  profiler.start();
  const processNs = pass(engine, ack, order, true) - pass(engine, ack, order, false);
  const gcs = profiler.stop().statistics.length;

  const result: ConnTableResult = {
    connections: N,
    rssBytesPerConn: (full.rss - before.rss) / N,
    heapBytesPerConn: (full.heap - before.heap) / N,
    emptyRssBytesPerConn: (empty.rss - before.rss) / N,
    lookupNs,
    processNs,
    insertNs,
    // Two passes of N packets ran under the profiler.
    gcPerMillionPackets: gcs / (2 * N / 1e6),
  };
  console.log(JSON.stringify(result));
}

main();
