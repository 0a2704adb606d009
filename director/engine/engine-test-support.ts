// Shared by the engine's tests: the article's table on an engine with a fake clock, TCP
// segments with chosen flags and valid checksums, and a parse helper.
import assert from "node:assert/strict";
import { DirectorEngine } from "./engine.ts";
import { PacketView } from "../packet/packet.ts";
import { buildPacket, type Rng } from "../packet/test-support.ts";
import { parseIPv4 } from "../net/ipv4-address.ts";

export const VIP = parseIPv4("203.0.113.5")!;
export const CLIENT = parseIPv4("198.51.100.2")!;
export const RS1 = parseIPv4("172.16.0.2")!;
export const RS2 = parseIPv4("172.16.0.3")!;
export { TCP_ACK as ACK, TCP_SYN as SYN } from "../packet/tcp.ts";

export function articleEngine(nowMs = 0): DirectorEngine {
  const engine = new DirectorEngine({ maxConnections: 1024, nowMs });
  const key = { protocol: "tcp" as const, addr: VIP, port: 80 };
  engine.services.addService({ ...key, schedulerName: "wrr" });
  engine.services.addDestination("tcp", VIP, 80, {
    addr: RS1,
    port: 80,
    weight: 1,
    method: "masq",
  });
  engine.services.addDestination("tcp", VIP, 80, {
    addr: RS2,
    port: 8000,
    weight: 2,
    method: "masq",
  });
  return engine;
}

export function tcpPacket(
  rng: Rng,
  src: number,
  sport: number,
  dst: number,
  dport: number,
  flags: number,
  options: { payloadLen?: number; partial?: boolean } = {},
): Uint8Array {
  const buf = buildPacket(rng, {
    proto: 6,
    payloadLen: options.payloadLen ?? 0,
    src,
    dst,
    sport,
    dport,
    partial: options.partial,
  });
  // Set the flags, then rebuild the checksum the way buildPacket made it.
  const view = new PacketView();
  assert.equal(view.parse(buf, buf.length), 0);
  buf[view.ip.l4Offset + 13] = flags;
  if (!options.partial) view.tcp.checksum = view.computeL4Checksum();
  return buf;
}

export function parsed(buf: Uint8Array, length: number): PacketView {
  const view = new PacketView();
  assert.equal(view.parse(buf, length), 0);
  return view;
}
