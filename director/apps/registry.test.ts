// The helper framework: port registration and binding, the packet hooks' order (sequence
// correction, then the helper), expectations (match, dedupe, cap, timeout, death with the
// control connection) and control/data links.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConnTable } from "../engine/conn-table.ts";
import {
  APP_DROP,
  type AppHelper,
  AppHelpers,
  EXPECT_ACTIVE,
  EXPECT_PASSIVE,
  EXPECT_PER_CONTROL,
  EXPECT_TIMEOUT_MS,
  NO_SLOT,
} from "./registry.ts";
import { inspect, segment, viewOf } from "./test-support.ts";
import type { PacketView } from "../packet/packet.ts";
import { parseIPv4 } from "../net/ipv4-address.ts";
import { replacePayload } from "./mangle.ts";

const VIP = parseIPv4("203.0.113.5")!;
const CLIENT = parseIPv4("198.51.100.2")!;
const OTHER = parseIPv4("198.51.100.3")!;
const RS = parseIPv4("172.16.0.3")!;

/** A helper that appends "!" to every server payload and counts what it saw. */
class Shouter implements AppHelper {
  readonly name = "shout";
  seen: string[] = [];
  bound: number[] = [];
  unbound: number[] = [];
  dropNext = false;
  bindConn(slot: number): void {
    this.bound.push(slot);
  }
  unbindConn(slot: number): void {
    this.unbound.push(slot);
  }
  pktIn(_apps: AppHelpers, _slot: number, view: PacketView): number {
    this.seen.push(`in seq=${view.tcp.seq} ack=${view.tcp.ack}`);
    return 0;
  }
  pktOut(_apps: AppHelpers, _slot: number, view: PacketView): number {
    this.seen.push(`out seq=${view.tcp.seq}`);
    if (this.dropNext) return APP_DROP;
    const end = view.packetEnd;
    return replacePayload(view, end, end, new Uint8Array([0x21]), 1);
  }
}

function setup() {
  const conns = new ConnTable(64);
  const apps = new AppHelpers(conns, 32);
  const helper = new Shouter();
  apps.register(helper, 6, 21);
  const control = conns.insert(6, CLIENT, 40000, VIP, 21, RS, 21);
  apps.bind(control);
  return { conns, apps, helper, control };
}

test("registration: one helper per port, binding by virtual port", () => {
  const { conns, apps, helper, control } = setup();
  assert.throws(() => apps.register(new Shouter(), 6, 21), /already has the shout helper/);
  assert.throws(() => apps.register(helper, 1, 21), /TCP or UDP/);
  assert.throws(() => apps.register(helper, 6, 0), /1..65535/);
  assert.equal(apps.helperForPort(6, 21), helper);
  assert.equal(apps.helperForPort(17, 21), null);
  assert.deepEqual(apps.registrations(), [{ proto: 6, port: 21, name: "shout" }]);
  assert.equal(apps.helperOf[control], 1);
  assert.deepEqual(helper.bound, [control]);
  const web = conns.insert(6, CLIENT, 40001, VIP, 80, RS, 80);
  apps.bind(web);
  assert.equal(apps.helperOf[web], 0);
  apps.release(control);
  assert.equal(apps.helperOf[control], 0);
  assert.deepEqual(helper.unbound, [control]);
});

test("hooks: seq correction runs before the helper, resizes are recorded, drops are reported", () => {
  const { apps, helper, control } = setup();
  const reply = segment({
    src: RS,
    dst: CLIENT,
    sport: 21,
    dport: 40000,
    seq: 100,
    ack: 7,
    payload: "abc",
  });
  assert.equal(apps.outbound(control, viewOf(reply), 0), true);
  assert.equal(inspect(reply).payload, "abc!");
  assert.equal(apps.seq.outDelta[control], 1);
  // The next server segment (original seq 103) is seen by the helper already shifted.
  const next = segment({
    src: RS,
    dst: CLIENT,
    sport: 21,
    dport: 40000,
    seq: 103,
    ack: 7,
    payload: "d",
  });
  assert.equal(apps.outbound(control, viewOf(next), 0), true);
  assert.equal(inspect(next).seq, 104);
  assert.deepEqual(helper.seen, ["out seq=100", "out seq=104"]);
  // The client acks 106 (it got "abc!" and "d!"); the server sent 4 bytes from 100: 104.
  const ack = segment({
    src: CLIENT,
    dst: VIP,
    sport: 40000,
    dport: 21,
    seq: 7,
    ack: 106,
    payload: "x",
  });
  assert.equal(apps.inbound(control, viewOf(ack), 0), true);
  assert.equal(helper.seen[2], "in seq=7 ack=104");
  // Pure ACKs do not reach the helper.
  const pure = segment({
    src: CLIENT,
    dst: VIP,
    sport: 40000,
    dport: 21,
    seq: 8,
    ack: 106,
    flags: 0x10,
  });
  apps.inbound(control, viewOf(pure), 0);
  assert.equal(helper.seen.length, 3);
  assert.equal(inspect(pure).ack, 104);
  helper.dropNext = true;
  const dropped = segment({
    src: RS,
    dst: CLIENT,
    sport: 21,
    dport: 40000,
    seq: 104,
    ack: 8,
    payload: "e",
  });
  assert.equal(apps.outbound(control, viewOf(dropped), 0), false);
  assert.equal(apps.counters.dropped, 1);
});

test("passive expectations: matched by client, VIP and port; consumed once", () => {
  const { apps, control } = setup();
  apps.nowMs = 1000;
  assert.ok(apps.expect(EXPECT_PASSIVE, control, CLIENT, 0, VIP, 30005, RS, 30005));
  assert.equal(apps.pending, 1);
  assert.equal(apps.findPassive(OTHER, VIP, 30005, 1000), NO_SLOT, "another client");
  assert.equal(apps.findPassive(CLIENT, VIP, 30006, 1000), NO_SLOT, "another port");
  const i = apps.findPassive(CLIENT, VIP, 30005, 1000);
  assert.notEqual(i, NO_SLOT);
  assert.equal(apps.expControl[i], control);
  assert.equal(apps.expDaddr[i], RS);
  assert.equal(apps.expDport[i], 30005);
  apps.consume(i);
  assert.equal(apps.pending, 0);
  assert.equal(apps.findPassive(CLIENT, VIP, 30005, 1000), NO_SLOT);
  assert.equal(apps.counters.expectedUsed, 1);
});

test("active expectations: matched by client address and port and the server's port 20", () => {
  const { apps, control } = setup();
  assert.ok(apps.expect(EXPECT_ACTIVE, control, CLIENT, 40100, VIP, 20, RS, 20));
  assert.equal(apps.findActive(CLIENT, 40100, RS, 21, 0), NO_SLOT, "wrong server port");
  assert.equal(apps.findActive(CLIENT, 40101, RS, 20, 0), NO_SLOT, "wrong client port");
  assert.equal(apps.findPassive(CLIENT, VIP, 20, 0), NO_SLOT, "kinds do not mix");
  const i = apps.findActive(CLIENT, 40100, RS, 20, 0);
  assert.notEqual(i, NO_SLOT);
  assert.equal(apps.expVport[i], 20);
});

test("a repeated expectation is refreshed, not duplicated; a control's share is capped", () => {
  const { apps, control } = setup();
  apps.nowMs = 0;
  apps.expect(EXPECT_PASSIVE, control, CLIENT, 0, VIP, 30000, RS, 30000);
  apps.nowMs = 50_000;
  apps.expect(EXPECT_PASSIVE, control, CLIENT, 0, VIP, 30000, RS, 30000); // retransmission
  assert.equal(apps.pending, 1);
  // Refreshed: still there after the first one's timeout.
  assert.notEqual(apps.findPassive(CLIENT, VIP, 30000, EXPECT_TIMEOUT_MS + 10), NO_SLOT);
  for (let p = 1; p <= EXPECT_PER_CONTROL; p++) {
    apps.nowMs = 50_000 + p;
    apps.expect(EXPECT_PASSIVE, control, CLIENT, 0, VIP, 30000 + p, RS, 30000 + p);
  }
  assert.equal(apps.pending, EXPECT_PER_CONTROL);
  assert.equal(apps.pendingFor(control), EXPECT_PER_CONTROL);
  assert.equal(apps.findPassive(CLIENT, VIP, 30000, 50_010), NO_SLOT, "the oldest was replaced");
  assert.equal(apps.counters.expectedDropped, 1);
});

test("expectations time out and die with their control connection", () => {
  const { conns, apps, control } = setup();
  apps.nowMs = 0;
  apps.expect(EXPECT_PASSIVE, control, CLIENT, 0, VIP, 30001, RS, 30001);
  assert.equal(apps.findPassive(CLIENT, VIP, 30001, EXPECT_TIMEOUT_MS), NO_SLOT);
  assert.equal(apps.pending, 0, "the expired one was dropped when met");
  apps.expect(EXPECT_PASSIVE, control, CLIENT, 0, VIP, 30002, RS, 30002);
  apps.expect(EXPECT_ACTIVE, control, CLIENT, 40000, VIP, 20, RS, 20);
  const other = conns.insert(6, OTHER, 40000, VIP, 21, RS, 21);
  apps.bind(other);
  apps.expect(EXPECT_PASSIVE, other, OTHER, 0, VIP, 30003, RS, 30003);
  apps.release(control);
  assert.equal(apps.pending, 1);
  assert.equal(apps.findPassive(CLIENT, VIP, 30002, 0), NO_SLOT);
  assert.notEqual(apps.findPassive(OTHER, VIP, 30003, 0), NO_SLOT);
});

test("a full pool refuses new expectations after sweeping expired ones", () => {
  const conns = new ConnTable(64);
  const apps = new AppHelpers(conns, 4);
  const controls = [0, 1, 2, 3, 4].map((i) => {
    const s = conns.insert(6, CLIENT, 41000 + i, VIP, 21, RS, 21);
    apps.bind(s);
    return s;
  });
  apps.nowMs = 0;
  for (let i = 0; i < 4; i++) {
    assert.ok(apps.expect(EXPECT_PASSIVE, controls[i], CLIENT, 0, VIP, 30000 + i, RS, 30000 + i));
  }
  assert.equal(apps.expect(EXPECT_PASSIVE, controls[4], CLIENT, 0, VIP, 30010, RS, 30010), false);
  apps.nowMs = EXPECT_TIMEOUT_MS + 1;
  assert.ok(apps.expect(EXPECT_PASSIVE, controls[4], CLIENT, 0, VIP, 30010, RS, 30010));
  assert.equal(apps.pending, 1);
});

test("a first fragment gets its sequence numbers fixed but no payload rewrite", () => {
  const { apps, helper, control } = setup();
  apps.seq.recordOutbound(control, 100, 1);
  const frag = segment({
    src: RS,
    dst: CLIENT,
    sport: 21,
    dport: 40000,
    seq: 200,
    ack: 7,
    payload: "abc",
  });
  frag[10 + 6] |= 0x20; // MF
  frag[10 + 10] = 0;
  frag[10 + 11] = 0;
  const view = viewOf(frag);
  view.ip.checksum = view.ip.computeChecksum();
  assert.equal(apps.outbound(control, view, 0), true);
  assert.equal(view.tcp.seq, 201);
  assert.deepEqual(helper.seen, []);
});
