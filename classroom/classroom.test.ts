// The classroom's parts without a lab: a pcap read while it grows (split mid-record, damaged),
// live twin matching in either arrival order and its leftovers explained, the fields a NAT
// rewrite changes, the bounded ring, and the export read back by lab/analysis.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  decodeRecords,
  mergeConversations,
  natConnection,
  writePcap as writeFixture,
} from "../lab/analysis/test-support.ts";
import { LINKTYPE_ETHERNET } from "../lab/analysis/decode.ts";
import type { Packet } from "../lab/analysis/packet.ts";
import { readPcap } from "../lab/analysis/read-pcap.ts";
import { PcapTail } from "./pcap-tail.ts";
import { type LivePair, LivePairer } from "./live-pairs.ts";
import { changedFields, packetFields } from "./fields.ts";
import { explainAlone, explainPair } from "./explain.ts";
import { EventRing } from "./ring.ts";
import { frameLegs, LiveCopyPairer } from "./live-copies.ts";
import { DR_MAC, DR_VIP, drConnection, mergeDrCaptures } from "../lab/analysis/dr-test-support.ts";
import { writePcap } from "./pcap-export.ts";

const base = {
  client: "198.51.100.2",
  vip: "203.0.113.5",
  vport: 80,
  server: "172.16.0.3",
  serverPort: 8000,
};

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-classroom-"));
}

test("a pcap read while it grows yields each packet once, whole records only", () => {
  const dir = tmp();
  const whole = path.join(dir, "whole.pcap");
  const conv = natConnection({ ...base, clientPort: 3456, t0: 1 });
  writeFixture(whole, LINKTYPE_ETHERNET, conv.public);
  const bytes = fs.readFileSync(whole);
  const growing = path.join(dir, "growing.pcap");
  const got: Packet[] = [];
  const tail = new PcapTail(growing, {
    packet: (p) => got.push(p),
    skipped: (r) => assert.fail(r),
  });
  tail.poll(); // not there yet: nothing, no error
  // Cut inside the global header, inside a record header, inside a packet.
  const cuts = [10, 24 + 8, 24 + 16 + 30, bytes.length];
  let from = 0;
  for (const cut of cuts) {
    fs.appendFileSync(growing, bytes.subarray(from, cut));
    from = cut;
    tail.poll();
  }
  tail.stop();
  assert.equal(got.length, conv.public.length);
  assert.deepEqual(got.map((p) => p.index), conv.public.map((_, i) => i + 1));
  assert.equal(got[0].tcp?.flagText, "S");
});

test("a damaged pcap is reported once and stops the reader, not the process", () => {
  const file = path.join(tmp(), "bad.pcap");
  fs.writeFileSync(file, Buffer.alloc(64, 7));
  const reasons: string[] = [];
  const tail = new PcapTail(file, {
    packet: () => assert.fail("no packet"),
    skipped: (r) => reasons.push(r),
  });
  tail.poll();
  tail.poll();
  assert.equal(reasons.length, 1);
  assert.match(reasons[0], /is not a pcap file/);
  assert.equal(tail.problem, reasons[0]);
});

test("live matching pairs every packet in either arrival order; a director's RST stays alone", () => {
  const conv = mergeConversations([
    natConnection({ ...base, clientPort: 3456, t0: 1, ipId: 10 }),
    natConnection({ ...base, clientPort: 3457, t0: 1.0001, ipId: 10, server: "172.16.0.2" }),
    natConnection({ ...base, clientPort: 3458, t0: 1.5, vport: 8080, refused: true }),
  ]);
  const pub = decodeRecords(conv.public);
  const priv = decodeRecords(conv.private);
  for (const privateFirst of [false, true]) {
    const pairs: LivePair[] = [];
    const alone: Packet[] = [];
    const m = new LivePairer(base.vip, "public", "private", {
      pair: (p) => pairs.push(p),
      alone: (p) => alone.push(p),
    });
    const order = privateFirst
      ? [...priv.map((p) => ["private", p] as const), ...pub.map((p) => ["public", p] as const)]
      : [...pub.map((p) => ["public", p] as const), ...priv.map((p) => ["private", p] as const)];
    for (const [segment, p] of order) m.add(segment, p);
    m.expire(10);
    assert.equal(pairs.length, priv.length, `privateFirst=${privateFirst}`);
    for (const p of pairs) {
      const [client, other] = p.direction === "to-server"
        ? [p.before, p.after]
        : [p.after, p.before];
      assert.equal(client.protocol, other.protocol);
      assert.equal(p.direction === "to-server" ? client.dst : client.src, base.vip);
    }
    // The refused SYN and the director's RST have no twin.
    assert.deepEqual(alone.map((p) => p.tcp?.flagText).sort(), ["R.", "S"]);
    const rst = alone.find((p) => p.tcp?.flagText === "R.")!;
    assert.equal(
      explainAlone(rst, base.vip).text,
      "RST from the director: no service on port 8080",
    );
    const syn = pairs.find((p) => p.direction === "to-server" && p.before.tcp?.flagText === "S")!;
    const tables = {
      time: 0,
      connections: [],
      services: [{
        protocol: "TCP",
        address: "203.0.113.5:80",
        scheduler: "wrr",
        conns: 0,
        inpkts: 0,
        outpkts: 0,
        destinations: [{
          address: `${syn.after.dst}:${syn.after.dstPort}`,
          method: "masq",
          weight: 2,
          active: 0,
          inactive: 0,
          conns: 0,
          inpkts: 0,
          outpkts: 0,
        }],
      }],
    };
    const e = explainPair(syn, tables);
    assert.match(e.text, /^new connection: wrr picked 172\.16\.0\.[23]:8000 \(weight 2\)/);
    assert.equal(e.connection, `tcp 198.51.100.2:${syn.before.srcPort}`);
    const reply = pairs.find((p) => p.direction === "to-client")!;
    assert.match(
      explainPair(reply, tables).text,
      /^reply: source 172\.16\.0\.[23]:8000 rewritten to the VIP 203\.0\.113\.5:80/,
    );
  }
});

test("a NAT rewrite changes exactly the address, the port and both checksums", () => {
  const conv = natConnection({ ...base, clientPort: 3456, t0: 1 });
  const [pubSyn] = decodeRecords(conv.public);
  const [privSyn] = decodeRecords(conv.private);
  const before = packetFields(pubSyn);
  const after = packetFields(privSyn);
  assert.deepEqual(changedFields(before, after), [
    "IP header checksum",
    "IP destination",
    "TCP destination port",
    "TCP checksum",
  ]);
  const sum = (fs: ReturnType<typeof packetFields>, n: string) =>
    fs.find((f) => `${f.layer} ${f.name}` === n)!.value;
  assert.match(sum(before, "TCP checksum"), /^0x[0-9a-f]{4} ✓$/);
  assert.notEqual(sum(before, "TCP checksum"), sum(after, "TCP checksum"));
});

test("the ring keeps the newest events only and counts the rest", () => {
  const ring = new EventRing<number>(2000);
  for (let i = 1; i <= 2500; i++) ring.push(i);
  assert.equal(ring.length, 2000);
  assert.equal(ring.dropped, 500);
  assert.equal(ring.items()[0], 501);
  assert.equal(ring.items().at(-1), 2500);
  assert.equal(ring.nextSeq, 2501);
  assert.throws(() => new EventRing(0), /at least 1/);
});

test("the export is a pcap lab/analysis reads back, packets in time order", async () => {
  const conv = natConnection({ ...base, clientPort: 3456, t0: 1 });
  const packets = [...decodeRecords(conv.private), ...decodeRecords(conv.public)];
  const file = path.join(tmp(), "export.pcap");
  fs.writeFileSync(file, writePcap(packets));
  const back = await readPcap(file);
  assert.equal(back.packets.length, packets.length);
  const sorted = [...packets].sort((a, b) => a.time - b.time);
  assert.deepEqual(
    back.packets.map((p) => `${p.src}>${p.dst} ${p.tcp?.flagText}`),
    sorted.map((p) => `${p.src}>${p.dst} ${p.tcp?.flagText}`),
  );
  assert.deepEqual(back.packets[0].ipBytes, sorted[0].ipBytes);
  assert.equal(back.packets[0].srcMac, sorted[0].srcMac);
});

test("VS/DR live: each client packet's two copies on the LAN pair up; the MACs, TTL and IP checksum change", () => {
  const c = mergeDrCaptures([
    drConnection({ clientPort: 40001, server: "rs2", t0: 1 }),
    drConnection({ clientPort: 40002, server: "rs1", t0: 1.00005, ipId: 100 }),
  ]);
  const lan = decodeRecords(c.lan);
  const pairs: LivePair[] = [];
  const alone: [Packet, string][] = [];
  const m = new LiveCopyPairer(
    DR_VIP,
    "lan",
    frameLegs(DR_MAC.director),
    new Set(["rs1-eth0", "rs2-eth0"]),
    {
      pair: (p) => pairs.push(p),
      alone: (p, segment) => alone.push([p, segment]),
    },
  );
  for (const p of lan) m.add("lan", p);
  for (const p of decodeRecords(c.servers.rs2)) m.add("rs2-eth0", p);
  m.expire(10);
  // Every client packet that arrived at the director left it once, to its connection's server.
  const arrived = lan.filter((p) => p.dstMac === DR_MAC.director && p.dst === DR_VIP);
  assert.equal(pairs.length, arrived.length);
  for (const p of pairs) {
    assert.equal(p.before.dstMac, DR_MAC.director);
    assert.equal(p.after.dstMac, p.before.srcPort === 40001 ? DR_MAC.rs2 : DR_MAC.rs1);
    assert.equal(p.after.ttl, p.before.ttl - 1);
    assert.deepEqual(changedFields(packetFields(p.before), packetFields(p.after)), [
      "Ethernet source MAC",
      "Ethernet destination MAC",
      "IP TTL",
      "IP header checksum",
    ]);
  }
  // rs2's replies, from the VIP, on its own port; nothing left waiting.
  assert.ok(alone.length > 0);
  assert.ok(alone.every(([p, segment]) => segment === "rs2-eth0" && p.src === DR_VIP));
  const syn = pairs.find((p) => p.before.tcp?.flagText === "S" && p.before.srcPort === 40001)!;
  assert.match(
    explainPair(syn, null, { host: "rs2", address: "172.16.0.3:80" }).text,
    /^new connection: the scheduler sent it to 172\.16\.0\.3:80; the same IP packet goes on in a frame to rs2's MAC/,
  );
});
