// Persistence templates (ipvsadm -p/-M) and the expire_* settings, on crafted packets and a
// fake clock: one client network stays on one real server while its template lives.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DirectorEngine } from "./engine.ts";
import { CONN_F_TEMPLATE, NO_SLOT } from "./conn-table.ts";
import { Rng } from "../packet/test-support.ts";
import { parseIPv4 } from "../net/ipv4-address.ts";
import { snapshotConnections } from "../control/snapshot.ts";
import { applyTableCommands } from "../control/table-commands.ts";
import { readSysctls, writeSysctls } from "../sysctl/settings.ts";
import { ACK, CLIENT, parsed, RS1, RS2, SYN, tcpPacket, VIP } from "./engine-test-support.ts";

const OTHER_CLIENT = parseIPv4("192.0.2.7")!;

/** rr over rs1 and rs2 (rs2 added last, so rr's first pick), persistent for `seconds`. */
function persistentEngine(seconds: number, netmask = 0xffffffff, port = 80): DirectorEngine {
  const engine = new DirectorEngine({ maxConnections: 4096, nowMs: 0 });
  engine.services.addService({
    protocol: "tcp",
    addr: VIP,
    port,
    schedulerName: "rr",
    persistTimeout: seconds,
    persistNetmask: netmask,
  });
  for (const addr of [RS1, RS2]) {
    engine.services.addDestination("tcp", VIP, port, { addr, port, weight: 1, method: "masq" });
  }
  return engine;
}

/** Sends a SYN and returns the real server it went to (0 when refused). */
function connect(engine: DirectorEngine, rng: Rng, src: number, sport: number, dport = 80) {
  const syn = tcpPacket(rng, src, sport, VIP, dport, SYN);
  const n = engine.process(syn, syn.length);
  if (n === 0) return { addr: 0, port: 0 };
  const view = parsed(syn, n);
  if (view.ip.src === VIP) return { addr: 0, port: 0 }; // a refusal written back
  return { addr: view.ip.dst, port: view.tcp.dstPort };
}

function templates(engine: DirectorEngine) {
  return snapshotConnections(engine).filter((c) => c.template);
}

test("a persistent client stays on one real server across 50 connections; rr alternates without -p", () => {
  const rng = new Rng(21);
  const sticky = persistentEngine(300);
  const first = connect(sticky, rng, CLIENT, 20000).addr;
  for (let i = 1; i < 50; i++) assert.equal(connect(sticky, rng, CLIENT, 20000 + i).addr, first);
  // Another client is scheduled afresh: rr moves on to the other server.
  assert.notEqual(connect(sticky, rng, OTHER_CLIENT, 30000).addr, first);
  assert.equal(
    sticky.services.entries[0].service.destinations.find((d) => d.addr === first)!
      .persistConns,
    1,
  );

  const plain = persistentEngine(0);
  const seen = new Set<number>();
  for (let i = 0; i < 4; i++) seen.add(connect(plain, rng, CLIENT, 21000 + i).addr);
  assert.equal(seen.size, 2);
  assert.equal(templates(plain).length, 0);
});

test("the template is listed as IPVS lists it: client network, port 0, state NONE", () => {
  const rng = new Rng(22);
  const engine = persistentEngine(300, parseIPv4("255.255.255.0")!);
  const dest = connect(engine, rng, CLIENT, 20000);
  // With -M 255.255.255.0 a neighbour of the client shares its template.
  assert.equal(connect(engine, rng, parseIPv4("198.51.100.77")!, 20001).addr, dest.addr);
  const [t] = templates(engine);
  assert.ok(t, "a template entry exists");
  assert.equal(t.caddr, parseIPv4("198.51.100.0"));
  assert.equal(t.cport, 0);
  assert.equal(t.vport, 80);
  assert.equal(t.daddr, dest.addr);
  assert.equal(t.dport, 80);
  assert.equal(t.state, "NONE");
  assert.equal(t.protocol, "tcp");
  assert.ok(t.expiresInMs > 299_000 && t.expiresInMs <= 300_000);
  assert.equal(templates(engine).length, 1);
  assert.equal(snapshotConnections(engine).length, 3);
});

test("a template outlives its connections, then expires and the client is scheduled afresh", () => {
  const rng = new Rng(23);
  const engine = persistentEngine(10);
  const first = connect(engine, rng, CLIENT, 20000).addr;
  // Establish the connection: it now lives 900 s and keeps the template alive.
  const synack = tcpPacket(rng, first, 80, CLIENT, 20000, SYN | ACK);
  assert.ok(engine.process(synack, synack.length) > 0);
  const ack = tcpPacket(rng, CLIENT, 20000, VIP, 80, ACK);
  assert.ok(engine.process(ack, ack.length) > 0);
  engine.tick(60_000);
  assert.equal(templates(engine).length, 1, "kept while it controls a connection");
  assert.equal(connect(engine, rng, CLIENT, 20001).addr, first);

  // Ends every connection (their timers), then the template's own 10 s.
  engine.tick(60_000 + 901_000);
  assert.equal(engine.conns.size, 1, "only the template is left");
  engine.tick(60_000 + 901_000 + 10_001);
  assert.equal(engine.conns.size, 0);
  assert.notEqual(connect(engine, rng, CLIENT, 20002).addr, first, "rr picks the next server");
});

test("a deleted real server's template is not used again; weight 0 keeps it unless expire_quiescent_template", () => {
  const rng = new Rng(24);
  const engine = persistentEngine(300);
  const first = connect(engine, rng, CLIENT, 20000);
  engine.services.editDestination("tcp", VIP, 80, {
    addr: first.addr,
    port: first.port,
    weight: 0,
    method: "masq",
  });
  // IPVS default: the persistent client keeps its weight-0 server.
  assert.equal(connect(engine, rng, CLIENT, 20001).addr, first.addr);
  writeSysctls(engine, { "net.ipv4.vs.expire_quiescent_template": 1 });
  assert.notEqual(connect(engine, rng, CLIENT, 20002).addr, first.addr);

  const other = persistentEngine(300);
  const chosen = connect(other, rng, CLIENT, 20000);
  other.services.deleteDestination("tcp", VIP, 80, chosen.addr, chosen.port);
  const next = connect(other, rng, CLIENT, 20001);
  assert.notEqual(next.addr, 0);
  assert.notEqual(next.addr, chosen.addr);
});

test("a persistent FTP service's template covers every port of the VIP (data connections)", () => {
  const rng = new Rng(25);
  const engine = persistentEngine(300, 0xffffffff, 21);
  const control = connect(engine, rng, CLIENT, 20000, 21);
  const data = connect(engine, rng, CLIENT, 20001, 30005);
  assert.equal(data.addr, control.addr);
  assert.equal(data.port, 30005, "the data connection keeps the port the client asked for");
  const [t] = templates(engine);
  assert.equal(t.vport, 0);
  assert.equal(t.dport, 0);
  // A privileged port other than 20 is not an FTP data port: refused.
  assert.equal(connect(engine, rng, CLIENT, 20002, 443).addr, 0);
  // Without -p the FTP service takes only port 21.
  const plain = persistentEngine(0, 0xffffffff, 21);
  assert.equal(connect(plain, rng, CLIENT, 20003, 30005).addr, 0);
});

test("a port-zero persistent service catches every port of its address", () => {
  const rng = new Rng(26);
  const engine = persistentEngine(300, 0xffffffff, 0);
  const a = connect(engine, rng, CLIENT, 20000, 443);
  const b = connect(engine, rng, CLIENT, 20001, 8443);
  assert.notEqual(a.addr, 0);
  assert.equal(b.addr, a.addr);
  assert.deepEqual([a.port, b.port], [443, 8443]);
});

test("expire_nodest_conn: deleting a real server removes its entries at once, templates too", () => {
  const rng = new Rng(27);
  const engine = persistentEngine(300);
  const dest = connect(engine, rng, CLIENT, 20000);
  connect(engine, rng, CLIENT, 20001);
  assert.equal(engine.conns.size, 3);
  writeSysctls(engine, { expire_nodest_conn: 1 });
  applyTableCommands(engine, [{
    kind: "delete-server",
    service: { protocol: "tcp", addr: VIP, port: 80 },
    server: { addr: dest.addr, port: dest.port },
  }]);
  assert.equal(engine.conns.size, 0);
  let live = 0;
  engine.conns.forEach(() => live++);
  assert.equal(live, 0);
  // Without the setting the entries stay (their packets are dropped) until they expire.
  const kept = persistentEngine(300);
  const d2 = connect(kept, rng, CLIENT, 20000);
  applyTableCommands(kept, [{
    kind: "delete-server",
    service: { protocol: "tcp", addr: VIP, port: 80 },
    server: { addr: d2.addr, port: d2.port },
  }]);
  assert.equal(kept.conns.size, 2);
  // Turning it on later applies it to what was already deleted.
  writeSysctls(kept, { "net.ipv4.vs.expire_nodest_conn": "1" });
  assert.equal(kept.conns.size, 0);
});

test("settings are read and written by name, and a bad one changes nothing", () => {
  const engine = persistentEngine(300);
  assert.deepEqual(readSysctls(engine), {
    "net.ipv4.vs.expire_nodest_conn": 0,
    "net.ipv4.vs.expire_quiescent_template": 0,
  });
  assert.throws(
    () => writeSysctls(engine, { expire_nodest_conn: 1, conn_reuse: 1 }),
    /unknown setting 'conn_reuse'/,
  );
  assert.throws(() => writeSysctls(engine, { expire_nodest_conn: 2 }), /takes 0 or 1, not '2'/);
  assert.equal(engine.expireNodestConn, false, "nothing written by a refused batch");
});

test("templates are never matched by packets, and never reclaimed as half-open entries", () => {
  const rng = new Rng(28);
  const engine = new DirectorEngine({ maxConnections: 2, nowMs: 0 });
  engine.services.addService({
    protocol: "tcp",
    addr: VIP,
    port: 80,
    schedulerName: "rr",
    persistTimeout: 300,
    persistNetmask: 0xffffffff,
  });
  engine.services.addDestination("tcp", VIP, 80, {
    addr: RS1,
    port: 80,
    weight: 1,
    method: "masq",
  });
  connect(engine, rng, CLIENT, 20000);
  const t = engine.conns.findTemplate(6, CLIENT, VIP, 80);
  assert.notEqual(t, NO_SLOT);
  assert.equal(engine.conns.flags[t] & CONN_F_TEMPLATE, CONN_F_TEMPLATE);
  assert.equal(engine.conns.findInbound(6, CLIENT, 0, VIP, 80), NO_SLOT);
  // The table is full (template + connection): a new client's SYN may reclaim the half-open
  // connection but must not take the template.
  connect(engine, rng, OTHER_CLIENT, 20001);
  assert.notEqual(engine.conns.findTemplate(6, CLIENT, VIP, 80), NO_SLOT);
});
