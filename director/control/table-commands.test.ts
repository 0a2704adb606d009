// ipvsadm batches on the engine: all or nothing; Route and Tunnel servers' first packets
// wait for the next hop the control thread places, counted while they do.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DirectorEngine } from "../engine/engine.ts";
import { applyTableCommands, type TableCommand } from "./table-commands.ts";
import { snapshotEngine } from "./snapshot.ts";
import type { TunnelOptions } from "../service/tunnel-options.ts";
import { Rng } from "../packet/test-support.ts";
import { CLIENT, RS1, RS2, SYN, tcpPacket, VIP } from "../engine/engine-test-support.ts";

const service = { protocol: "tcp" as const, addr: VIP, port: 80 };

function addService(): TableCommand {
  return {
    kind: "add-service",
    service,
    scheduler: "rr",
    schedFlags: [],
    persistent: 0,
    netmask: 0xffffffff,
    onePacket: false,
  };
}

function addServer(
  addr: number,
  method: "masq" | "route" | "tunnel",
  more: { kind?: "add-server" | "edit-server"; tunnel?: TunnelOptions } = {},
): TableCommand {
  return {
    kind: more.kind ?? "add-server",
    ...(more.tunnel ? { tunnel: more.tunnel } : {}),
    service,
    server: { addr, port: 80 },
    method,
    weight: 1,
    upper: 0,
    lower: 0,
  };
}

test("a batch with one bad command changes nothing", () => {
  const engine = new DirectorEngine({ maxConnections: 64, nowMs: 0 });
  applyTableCommands(engine, [addService(), addServer(RS1, "masq")]);
  const before = JSON.stringify(snapshotEngine(engine).services);
  assert.throws(
    () => applyTableCommands(engine, [addServer(RS2, "masq"), addServer(RS1, "masq")]),
    /Destination already exists/,
  );
  assert.equal(JSON.stringify(snapshotEngine(engine).services), before);
});

test("a Tunnel server's first packets wait for its route: counted as tunnel-pending", () => {
  const engine = new DirectorEngine({ maxConnections: 64, nowMs: 0 });
  applyTableCommands(engine, [addService(), addServer(RS2, "tunnel")]);
  const syn = tcpPacket(new Rng(3), CLIENT, 4000, VIP, 80, SYN);
  assert.equal(engine.process(syn, syn.length), 0);
  assert.equal(engine.drops.toJSON()["tunnel-pending"], 1);
  assert.equal(engine.conns.size, 1);
});

test("a Route server's first packets wait for its next hop: counted as neighbour-pending", () => {
  const engine = new DirectorEngine({ maxConnections: 64, nowMs: 0 });
  applyTableCommands(engine, [addService(), addServer(RS1, "route")]);
  const syn = tcpPacket(new Rng(3), CLIENT, 4000, VIP, 80, SYN);
  assert.equal(engine.process(syn, syn.length), 0, "nothing for the TUN device");
  assert.equal(engine.drops.toJSON()["neighbour-pending"], 1);
  assert.equal(engine.conns.size, 1, "the connection is made; its packet waits for a MAC");
});

test("a tunnel server keeps its tunnel options; -e sets them again as ipvsadm sends them", () => {
  const engine = new DirectorEngine({ maxConnections: 64, nowMs: 0 });
  const gue = { type: "gue" as const, port: 6080, checksum: "csum" as const };
  const tunnelOf = () => snapshotEngine(engine).services[0].destinations[0].tunnel;
  applyTableCommands(engine, [addService(), addServer(RS1, "tunnel", { tunnel: gue })]);
  assert.deepEqual(tunnelOf(), gue);
  const gre = { type: "gre" as const, port: 0, checksum: "nocsum" as const };
  applyTableCommands(engine, [addServer(RS1, "tunnel", { kind: "edit-server", tunnel: gre })]);
  assert.deepEqual(tunnelOf(), gre);
  // -e ... -m carries no tunnel options: the server's are IPIP's defaults again, as in IPVS.
  applyTableCommands(engine, [addServer(RS1, "masq", { kind: "edit-server" })]);
  assert.deepEqual(tunnelOf(), { type: "ipip", port: 0, checksum: "nocsum" });
  // Still accepted, dropped and counted, with the same warning.
});
