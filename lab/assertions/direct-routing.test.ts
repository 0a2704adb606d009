import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeRecords } from "../analysis/test-support.ts";
import {
  DR_LINKS,
  DR_MAC,
  DR_VIP,
  type DrCaptures,
  drConnection,
  type DrConnectionSpec,
  mergeDrCaptures,
} from "../analysis/dr-test-support.ts";
import {
  assertDrForwarded,
  assertDrFrames,
  assertNoReplyThroughDirector,
  buildDrView,
  drRoles,
  type DrView,
} from "./direct-routing.ts";
import type { ServiceSpec } from "./service.ts";

const SERVICE: ServiceSpec = {
  protocol: "tcp",
  vip: DR_VIP,
  port: 80,
  servers: ["172.16.0.2:80", "172.16.0.3:80"],
};

function view(c: DrCaptures, tun: DrView["tunPackets"] = null): DrView {
  const servers = new Map(
    Object.entries(c.servers).map(([h, r]) => [h, decodeRecords(r)] as const),
  );
  return buildDrView(
    decodeRecords(c.public),
    decodeRecords(c.lan),
    servers,
    drRoles(DR_LINKS, "lan"),
    [SERVICE],
    tun,
  );
}

/**
 * `connections` connections through the director, with the departures of the client's ACKs
 * of the first `lost` taken off the LAN; the TUN device's capture holds every packet that
 * arrived but those of `neverRead` (the first ones lost).
 */
function lostAcks(connections: number, lost: number, neverRead: number) {
  const c = mergeDrCaptures(
    Array.from(
      { length: connections },
      (_, k) => drConnection({ clientPort: 40001 + k, server: "rs1", t0: 1 + k, ipId: 1 + 8 * k }),
    ),
  );
  const lan = decodeRecords(c.lan);
  const isAck = (k: number) => (p: (typeof lan)[number]) =>
    p.srcPort === 40001 + k && p.tcp?.flagText === "." && p.srcMac === DR_MAC.director;
  const gone = new Set<number>();
  for (let k = 0; k < lost; k++) gone.add(lan.findIndex(isAck(k)));
  c.lan = c.lan.filter((_, i) => !gone.has(i));
  const notRead = new Set(
    [...gone].slice(0, neverRead).map((i) => `${lan[i].srcPort}#${lan[i].ipId}`),
  );
  const tun = lan.filter((p) =>
    p.dstMac === DR_MAC.director && !notRead.has(`${p.srcPort}#${p.ipId}`)
  );
  return assertDrForwarded(view(c, tun));
}

/** Three connections: rs1, rs2, rs2; the second one changed as `fault` says. */
function lab(fault: Partial<DrConnectionSpec> = {}): DrView {
  return view(mergeDrCaptures([
    drConnection({ clientPort: 40001, server: "rs1", t0: 1 }),
    drConnection({ clientPort: 40002, server: "rs2", t0: 2, ipId: 300, ...fault }),
    drConnection({ clientPort: 40003, server: "rs2", t0: 3, ipId: 500 }),
  ]));
}

test("a correct DR run passes all three checks, each connection counted on its server", () => {
  const v = lab();
  const forwarded = assertDrForwarded(v);
  assert.ok(forwarded.passed, forwarded.line);
  assert.equal(forwarded.data.matched, 15);
  const frames = assertDrFrames(v);
  assert.ok(frames.passed, frames.line);
  assert.deepEqual(frames.data.perServer, { rs1: 1, rs2: 2 });
  assert.deepEqual(frames.details, ["rs1: 1 connection", "rs2: 2 connections"]);
  const replies = assertNoReplyThroughDirector(v);
  assert.ok(replies.passed, replies.line);
});

test("a frame to the wrong real server's MAC fails: another server holds the connection", () => {
  const v = lab({
    tamper: (f, place, i) => place === "left" && i === 3 ? { ...f, dstMac: DR_MAC.rs1 } : f,
  });
  const r = assertDrFrames(v);
  assert.equal(r.passed, false);
  assert.match(r.line, /its frames went to rs2 and rs1|went to rs1 .* but rs2 holds/);
  assert.ok(r.details.some((d) => /went to rs1 .*but rs2 holds the connection/.test(d)));
});

test("a frame to a MAC that is no real server's fails (the router's)", () => {
  const v = lab({
    tamper: (f, place) => place === "left" ? { ...f, dstMac: DR_MAC.routerLan } : f,
  });
  const r = assertDrFrames(v);
  assert.equal(r.passed, false);
  assert.match(r.details.join("\n"), /went to 02:00:00:00:02:fe \(the router\), which is no real/);
});

test("a frame to a MAC of no host in the lab fails", () => {
  const v = lab({
    tamper: (f, place) => place === "left" ? { ...f, dstMac: "02:00:00:00:09:09" } : f,
  });
  const r = assertDrFrames(v);
  assert.equal(r.passed, false);
  assert.match(r.details.join("\n"), /no host of the lab/);
});

test("a TTL the director did not decrement fails", () => {
  const v = lab({
    tamper: (f, place) => place === "left" ? { ...f, ip: { ...f.ip, ttl: 63 } } : f,
  });
  const r = assertDrFrames(v);
  assert.equal(r.passed, false);
  assert.match(r.line, /TTL 63 became 63, not 62/);
});

test("a changed payload byte fails, and so does a changed TOS", () => {
  const payload = lab({
    tamper: (f, place, i) =>
      place === "left" && i === 3
        ? { ...f, mangle: (ip: Uint8Array) => void (ip[ip.length - 1] ^= 0x20) }
        : f,
  });
  const r = assertDrFrames(payload);
  assert.equal(r.passed, false);
  assert.match(r.line, /byte 37 after the IP header changed from 10 to 42/);
  const tos = lab({
    tamper: (f, place, i) =>
      place === "left" && i === 0 ? { ...f, mangle: (ip: Uint8Array) => void (ip[1] = 4) } : f,
  });
  const t = assertDrFrames(tos);
  assert.equal(t.passed, false);
  assert.match(t.line, /IP header byte 1 \(TOS\) changed from 0 to 4/);
});

test("a wrong IP header checksum on the way out fails", () => {
  const v = lab({
    tamper: (f, place, i) =>
      place === "left" && i === 0 ? { ...f, ip: { ...f.ip, badIpChecksum: true } } : f,
  });
  assert.match(assertDrFrames(v).line, /the IP header checksum does not verify/);
});

test("replies through the director fail; frames the bridge floods past it do not", () => {
  const through = assertNoReplyThroughDirector(lab({ replyViaDirector: true }));
  assert.equal(through.passed, false);
  assert.match(through.line, /6 reply frames passed the director/);
  assert.match(through.details.join("\n"), /from rs2 to the director/);
  assert.match(through.details.join("\n"), /a reply leaving the director/);
  // A reply flooded to the director's port (addressed to the router) is not through it.
  const c = mergeDrCaptures([drConnection({ clientPort: 40001, server: "rs1", t0: 1 })]);
  c.lan.push(...c.servers.rs1.filter((_, i) => i === 1));
  const flooded = assertNoReplyThroughDirector(view(c));
  assert.ok(flooded.passed, flooded.line);
  assert.match(flooded.details.join("\n"), /flooded by the bridge/);
});

test("a packet the director took but did not send on fails the forwarding check", () => {
  const c = mergeDrCaptures([drConnection({ clientPort: 40001, server: "rs1", t0: 1 })]);
  // The LAN holds each client packet twice (arrived, left): [3] is the copy of the ACK.
  assert.equal(c.lan[3].data[11], 0xfd);
  c.lan.splice(3, 1);
  const r = assertDrForwarded(view(c));
  assert.equal(r.passed, false);
  assert.match(r.line, /1 reached the director but did not leave it/);
  assert.equal(r.data.unmatched, 1);
});

test("a packet the kernel dropped before the TUN device is left aside, one in a thousand at most", () => {
  // 300 connections, over 1,000 client packets: one never read by lvslab is the kernel's.
  const aside = lostAcks(300, 1, 1);
  assert.equal(aside.passed, true, aside.line);
  assert.match(aside.line, /1 packet the director host's kernel dropped before lvslab's TUN/);
  assert.equal(aside.data.droppedBeforeTun, 1);
  // lvslab read it and did not send it on: its fault, whatever the count.
  const read = lostAcks(300, 1, 0);
  assert.equal(read.passed, false);
  assert.match(read.line, /1 reached the director but did not leave it .*0 of them never reached/);
  // More than one in a thousand is no burst loss.
  const many = lostAcks(300, 3, 3);
  assert.equal(many.passed, false, many.line);
  assert.match(many.line, /3 reached the director but did not leave it .*3 of them never reached/);
});

test("a connection two real servers answered fails", () => {
  const c = mergeDrCaptures([drConnection({ clientPort: 40001, server: "rs1", t0: 1 })]);
  c.servers.rs2 = [...c.servers.rs1];
  const r = assertDrFrames(view(c));
  assert.equal(r.passed, false);
  assert.match(r.line, /answered by rs1 and rs2/);
});
