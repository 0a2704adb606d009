// One million random and mutated packets through the engine (no TUN): nothing throws,
// memory stays bounded, and every packet is either forwarded or counted as a drop.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DirectorEngine } from "./engine.ts";
import { buildPacket, Rng } from "../packet/test-support.ts";
import { parseIPv4 } from "../net/ipv4-address.ts";

const VIP = parseIPv4("203.0.113.5")!;
const RS = [parseIPv4("172.16.0.2")!, parseIPv4("172.16.0.3")!];
const CLIENTS = 64;
const PACKETS = 1_000_000;

function fuzzEngine(): DirectorEngine {
  const engine = new DirectorEngine({ maxConnections: 4096, nowMs: 0 });
  for (const protocol of ["tcp", "udp"] as const) {
    engine.services.addService({ protocol, addr: VIP, port: 80, schedulerName: "wlc" });
    for (const addr of RS) {
      engine.services.addDestination(protocol, VIP, 80, {
        addr,
        port: 80,
        weight: 1,
        method: "masq",
      });
    }
  }
  return engine;
}

/** Valid-looking packets in both directions, for TCP, UDP and ICMP, to mutate. */
function templates(rng: Rng): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < 4000; i++) {
    const proto = ([6, 17, 1] as const)[rng.int(3)];
    const client = parseIPv4(`198.51.100.${2 + rng.int(CLIENTS)}`)!;
    const cport = 1024 + rng.int(2000);
    const inbound = rng.int(2) === 0;
    const packet = buildPacket(rng, {
      proto,
      payloadLen: rng.int(3) === 0 ? rng.int(1400) : rng.int(64),
      src: inbound ? client : RS[rng.int(2)],
      dst: inbound ? VIP : client,
      sport: inbound ? cport : 80,
      dport: inbound ? 80 : cport,
      partial: proto !== 1 && rng.int(2) === 0,
      fragWord: rng.int(20) === 0 ? 0x2000 | rng.int(8) : 0x4000,
    });
    if (proto === 6) packet[10 + (packet[10] & 15) * 4 + 13] = rng.int(2) ? 0x02 : rng.int(256);
    out.push(packet);
  }
  return out;
}

test("1,000,000 random and mutated packets: no exception, bounded memory, counters add up", () => {
  const rng = new Rng(0x5eed);
  const engine = fuzzEngine();
  const pool = templates(rng);
  const buf = new Uint8Array(65545);
  let forwarded = 0;
  let heapAfterWarmup = 0;
  for (let i = 0; i < PACKETS; i++) {
    let length: number;
    const kind = rng.int(10);
    if (kind === 0) {
      // Pure noise.
      length = rng.int(200);
      rng.bytes(buf, 0, length);
    } else {
      const template = pool[rng.int(pool.length)];
      buf.set(template);
      length = kind === 1 ? rng.int(template.length + 1) : template.length;
      for (let m = kind <= 3 ? 1 + rng.int(4) : 0; m > 0; m--) {
        buf[rng.int(template.length)] = rng.int(256);
      }
    }
    if (engine.process(buf, length) > 0) forwarded++;
    if ((i & 1023) === 0) engine.tick(i); // one ms per 1024 packets: timers run too
    if (i === 100_000) heapAfterWarmup = process.memoryUsage().heapUsed;
  }
  const heapGrowth = process.memoryUsage().heapUsed - heapAfterWarmup;
  console.log(
    `forwarded ${forwarded}, dropped ${engine.drops.total}, heap growth ${heapGrowth}`,
    engine.drops.toJSON(),
  );
  // A refused packet is counted as a drop and answered (RST / ICMP): it shows up twice.
  assert.equal(
    forwarded + engine.drops.total - engine.refusalsSent,
    PACKETS,
    "every packet forwarded, answered or counted",
  );
  assert.ok(forwarded > 10_000, `some packets were forwarded (${forwarded})`);
  assert.ok(engine.conns.size <= engine.conns.capacity);
  assert.ok(heapGrowth < 64 * 1024 * 1024, `heap grew by ${heapGrowth} bytes`);
});
