// The bench's table fill: synthetic ESTABLISHED entries, so what a director holding a million
// connections costs can be measured where a million real connections cannot be opened
// (`npm run bench -- --scaling`). It is the control request "fill", which the director refuses
// unless it runs with --allow-test-fill: no director serving users should hold invented
// entries. Each entry has a client address and port of its own from a documentation range no
// lab client uses, and is opened by DirectorEngine.openSynthetic: scheduled onto a real
// server, ESTABLISHED, with its timer in the wheel and its server's counts, as a real one.
import type { DirectorEngine } from "./engine.ts";
import { NO_SLOT } from "./conn-table.ts";
import { formatIPv4, parseCidr, parseIPv4 } from "../net/ipv4-address.ts";
import { protocolNumber, serviceName } from "../service/service-table.ts";

/** Where synthetic clients come from: above every address the lab's topologies give hosts. */
export const FILL_CLIENTS = "198.51.100.128/26";
/** Synthetic clients use the unprivileged ports of each address, in order. */
const FIRST_PORT = 1024;
export const FILL_PORTS_PER_ADDRESS = 65536 - FIRST_PORT;

/** Client address of synthetic client i of the range starting at `base`. */
export function syntheticClientAddr(base: number, i: number): number {
  return (base + Math.floor(i / FILL_PORTS_PER_ADDRESS)) >>> 0;
}

/** Client port of synthetic client i. */
export function syntheticClientPort(i: number): number {
  return FIRST_PORT + (i % FILL_PORTS_PER_ADDRESS);
}

/** The control request's fields (JSON: checked here, field by field). */
export interface FillRequest {
  protocol: "tcp" | "udp";
  /** The virtual service's address and port. */
  address: string;
  port: number;
  /** How many entries to add. */
  count: number;
  /** Client range (CIDR), FILL_CLIENTS by default. */
  clients?: string;
}

export interface FillResult {
  added: number;
  /** Entries in the table afterwards, real and synthetic. */
  connections: number;
  /** How long the fill took (the packet thread handles no packet meanwhile). */
  ms: number;
}

function checkedRequest(request: FillRequest): {
  proto: number;
  vaddr: number;
  base: number;
  clientCount: number;
} {
  if (request.protocol !== "tcp" && request.protocol !== "udp") {
    throw new Error(
      `fill: protocol must be "tcp" or "udp", got ${JSON.stringify(request.protocol)}`,
    );
  }
  const vaddr = typeof request.address === "string" ? parseIPv4(request.address) : null;
  if (vaddr === null) {
    throw new Error(`fill: address must be an IPv4 address like 203.0.113.5`);
  }
  if (!Number.isInteger(request.port) || request.port < 1 || request.port > 65535) {
    throw new Error(`fill: port must be an integer from 1 to 65535`);
  }
  if (!Number.isInteger(request.count) || request.count < 1) {
    throw new Error(`fill: count must be a positive integer`);
  }
  const range = parseCidr(request.clients ?? FILL_CLIENTS);
  if (range === null || range.bits < 8) {
    throw new Error(`fill: clients must be an IPv4 prefix of /8 or longer, like ${FILL_CLIENTS}`);
  }
  const base = range.addr & ~(2 ** (32 - range.bits) - 1);
  const clientCount = 2 ** (32 - range.bits) * FILL_PORTS_PER_ADDRESS;
  return { proto: protocolNumber(request.protocol), vaddr, base: base >>> 0, clientCount };
}

/**
 * Adds `count` synthetic entries to the service, from the first client numbers of the range
 * whose (address, port) the table does not hold yet, so a second fill adds to the first.
 * Throws a sentence, having added nothing, when the service, the room or the range is short;
 * stops with one if the scheduler refuses an entry (a server's upper threshold, say).
 */
export function fillTable(engine: DirectorEngine, request: FillRequest): FillResult {
  const started = performance.now();
  const { proto, vaddr, base, clientCount } = checkedRequest(request);
  const name = serviceName(request.protocol, vaddr, request.port);
  const entry = engine.services.find(request.protocol, vaddr, request.port);
  if (entry === undefined) throw new Error(`fill: there is no service ${name}; add it first`);
  if (!entry.service.destinations.some((d) => d.available && d.weight > 0)) {
    throw new Error(`fill: service ${name} has no real server that takes new connections`);
  }
  const conns = engine.conns;
  const room = conns.capacity - conns.size;
  if (request.count > room) {
    throw new Error(
      `fill: the table has room for ${room} more entries (limit ${conns.capacity}); ask for ` +
        `fewer, or start the director with a larger maxConnections`,
    );
  }
  if (request.count > clientCount - conns.size) {
    throw new Error(
      `fill: the client range ${request.clients ?? FILL_CLIENTS} (from ${formatIPv4(base)}) ` +
        `has ${clientCount} address/port pairs; ask for fewer or give a wider range`,
    );
  }
  let added = 0;
  for (let i = 0; i < clientCount && added < request.count; i++) {
    const caddr = syntheticClientAddr(base, i);
    const cport = syntheticClientPort(i);
    if (conns.findInbound(proto, caddr, cport, vaddr, request.port) !== NO_SLOT) continue;
    const slot = engine.openSynthetic(proto, caddr, cport, vaddr, request.port);
    if (slot < 0) {
      throw new Error(`fill: service ${name} refused entry ${added + 1} (after ${added} added)`);
    }
    added++;
  }
  return { added, connections: conns.size, ms: performance.now() - started };
}
