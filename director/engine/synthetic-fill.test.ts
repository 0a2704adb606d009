import { test } from "node:test";
import assert from "node:assert/strict";
import { ACK, articleEngine, parsed, RS1, RS2, tcpPacket, VIP } from "./engine-test-support.ts";
import { fillTable, syntheticClientAddr, syntheticClientPort } from "./synthetic-fill.ts";
import { TCP_S_ESTABLISHED } from "../protocols/tcp-state.ts";
import { CONN_F_INACTIVE } from "./conn-table.ts";
import { parseCidr } from "../net/ipv4-address.ts";
import { Rng } from "../packet/test-support.ts";
import { Director } from "../director.ts";
import { parseDirectorConfig } from "../config/service-config.ts";
import { DirectorEngine } from "./engine.ts";

const FILL = { protocol: "tcp", address: "203.0.113.5", port: 80 } as const;
const CLIENTS = parseCidr("198.51.100.128/26")!;

function liveSlots(engine: ReturnType<typeof articleEngine>): number[] {
  const slots: number[] = [];
  engine.conns.forEach((slot) => slots.push(slot));
  return slots;
}

test("a fill adds ESTABLISHED entries of distinct clients, spread by the scheduler", () => {
  const engine = articleEngine();
  const r = fillTable(engine, { ...FILL, count: 300 });
  assert.equal(r.added, 300);
  assert.equal(r.connections, 300);
  const conns = engine.conns;
  const keys = new Set<string>();
  for (const slot of liveSlots(engine)) {
    assert.equal(conns.state[slot], TCP_S_ESTABLISHED);
    assert.equal(conns.flags[slot] & CONN_F_INACTIVE, 0, "an established entry is active");
    const caddr = conns.caddr[slot] >>> 0;
    assert.equal((caddr & 0xffffffc0) >>> 0, CLIENTS.addr, "client in 198.51.100.128/26");
    assert.ok(conns.cport[slot] >= 1024);
    keys.add(`${caddr}:${conns.cport[slot]}`);
  }
  assert.equal(keys.size, 300);
  // The article's weights are 1 (rs1) and 2 (rs2): wrr gives them a third and two thirds.
  const [d1, d2] = engine.services.find("tcp", VIP, 80)!.service.destinations
    .slice().sort((a, b) => a.weight - b.weight);
  assert.deepEqual([d1.addr, d2.addr], [RS1, RS2]);
  assert.deepEqual([d1.activeConns, d2.activeConns], [100, 200]);
  assert.deepEqual([d1.inactiveConns, d2.inactiveConns], [0, 0]);
});

test("filled entries expire with the ESTABLISHED timeout, from the timer wheel", () => {
  const engine = articleEngine(0);
  fillTable(engine, { ...FILL, count: 50 });
  engine.tick(899_000);
  assert.equal(engine.conns.size, 50);
  engine.tick(901_000);
  assert.equal(engine.conns.size, 0);
  const dests = engine.services.find("tcp", VIP, 80)!.service.destinations;
  assert.deepEqual(dests.map((d) => d.activeConns), [0, 0]);
});

test("a packet of a filled client follows its entry to the entry's server", () => {
  const engine = articleEngine();
  fillTable(engine, { ...FILL, count: 10 });
  const caddr = syntheticClientAddr(CLIENTS.addr, 7);
  const cport = syntheticClientPort(7);
  const slot = engine.conns.findInbound(6, caddr, cport, VIP, 80);
  assert.notEqual(slot, -1);
  const buf = tcpPacket(new Rng(3), caddr, cport, VIP, 80, ACK);
  const n = engine.process(buf, buf.length);
  assert.ok(n > 0);
  const out = parsed(buf, n);
  assert.equal(out.ip.dst >>> 0, engine.conns.daddr[slot] >>> 0);
  assert.equal(out.tcp.dstPort, engine.conns.dport[slot]);
  assert.equal(engine.conns.size, 10, "no new entry was made");
});

test("a second fill adds new clients after the first's", () => {
  const engine = articleEngine();
  fillTable(engine, { ...FILL, count: 40 });
  const r = fillTable(engine, { ...FILL, count: 40 });
  assert.equal(r.added, 40);
  assert.equal(engine.conns.size, 80);
  const keys = new Set(
    liveSlots(engine).map((s) => `${engine.conns.caddr[s]}:${engine.conns.cport[s]}`),
  );
  assert.equal(keys.size, 80);
});

test("a fill that cannot be done is refused with a sentence and adds nothing", () => {
  const engine = articleEngine(); // room for 1024
  assert.throws(() => fillTable(engine, { ...FILL, count: 2000 }), /room for 1024 more entries/);
  assert.throws(
    () => fillTable(engine, { ...FILL, port: 81, count: 1 }),
    /no service TCP 203\.0\.113\.5:81/,
  );
  engine.conns.insert(6, 1, 1, 1, 1, 1, 1); // one entry taken: 1023 left of 1024
  assert.throws(
    () => fillTable(engine, { ...FILL, count: 1024 }),
    /has room for 1023 more/,
  );
  assert.throws(
    () => fillTable(engine, { ...FILL, count: 1, clients: "198.51.100.300/26" }),
    /clients must be an IPv4 prefix/,
  );
  assert.throws(
    () => fillTable(engine, { ...FILL, count: 1, protocol: "icmp" as "tcp" }),
    /protocol must be "tcp" or "udp"/,
  );
  assert.throws(() => fillTable(engine, { ...FILL, count: 0 }), /count must be a positive integer/);
  assert.equal(engine.conns.size, 1);
});

test("a client range smaller than the fill is refused", () => {
  const engine = new DirectorEngine({ maxConnections: 70_000, nowMs: 0 });
  engine.services.addService({ protocol: "tcp", addr: VIP, port: 80, schedulerName: "rr" });
  engine.services.addDestination("tcp", VIP, 80, {
    addr: RS1,
    port: 80,
    weight: 1,
    method: "masq",
  });
  assert.throws(
    () => fillTable(engine, { ...FILL, count: 64_513, clients: "198.51.100.128/32" }),
    /198\.51\.100\.128\/32 \(from 198\.51\.100\.128\) has 64512 address\/port pairs/,
  );
  assert.equal(
    fillTable(engine, { ...FILL, count: 64_512, clients: "198.51.100.128/32" }).added,
    64_512,
  );
  assert.equal(engine.conns.size, 64_512);
});

test("the director refuses a fill unless started with --allow-test-fill", () => {
  const director = new Director({
    tunName: "lvsfill0",
    offload: true,
    transmit: "off",
    natTransmit: "tun",
    config: parseDirectorConfig("", "(none)"),
  });
  assert.throws(
    () => director.control({ op: "fill", ...FILL, count: 1 }),
    /for the bench only; start lvslab-director with --allow-test-fill/,
  );
});
