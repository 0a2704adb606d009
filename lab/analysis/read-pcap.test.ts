import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { readPcap } from "./read-pcap.ts";
import { LINKTYPE_ETHERNET, LINKTYPE_RAW } from "./decode.ts";
import { buildIpv4, ethernetFrame, writePcap } from "./test-support.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-readpcap-"));
test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

test("readPcap decodes every IPv4 frame in order and lists the others as skipped", async () => {
  const file = path.join(dir, "eth.pcap");
  const syn = buildIpv4({
    src: "198.51.100.2",
    dst: "203.0.113.5",
    protocol: "tcp",
    srcPort: 3456,
    dstPort: 80,
    flags: "S",
    ipId: 1,
  });
  const arp = new Uint8Array(42);
  arp[12] = 0x08;
  arp[13] = 0x06;
  const reply = buildIpv4({
    src: "203.0.113.5",
    dst: "198.51.100.2",
    protocol: "tcp",
    srcPort: 80,
    dstPort: 3456,
    flags: "S.",
    ipId: 2,
    badL4Checksum: true,
  });
  writePcap(file, LINKTYPE_ETHERNET, [
    { time: 10.25, data: ethernetFrame(syn) },
    { time: 10.5, data: arp },
    { time: 10.75, data: ethernetFrame(reply) },
  ]);
  const cap = await readPcap(file);
  assert.equal(cap.linkType, LINKTYPE_ETHERNET);
  assert.equal(cap.frames, 3);
  assert.deepEqual(cap.packets.map((p) => [p.index, p.time, p.ipId]), [[1, 10.25, 1], [
    3,
    10.75,
    2,
  ]]);
  assert.deepEqual(cap.packets.map((p) => p.l4ChecksumOk), [true, false]);
  assert.equal(cap.skipped.length, 1);
  assert.equal(cap.skipped[0].index, 2);
});

test("a raw-IP capture (as tcpdump writes for a TUN device) reads too", async () => {
  const file = path.join(dir, "raw.pcap");
  const frames = Array.from({ length: 500 }, (_, i) => ({
    time: 1 + i / 1000,
    data: buildIpv4({
      src: "198.51.100.2",
      dst: "203.0.113.5",
      protocol: "udp" as const,
      srcPort: 1000 + i,
      dstPort: 9000,
      payload: new Uint8Array(i % 300),
    }),
  }));
  writePcap(file, LINKTYPE_RAW, frames);
  const cap = await readPcap(file);
  assert.equal(cap.packets.length, 500);
  assert.equal(cap.packets[499].srcPort, 1499);
  assert.ok(cap.packets.every((p) => p.l4ChecksumOk === true && p.ipChecksumOk));
});

test("a file that is not a pcap, or missing, or of another link type, is refused with a sentence", async () => {
  const junk = path.join(dir, "junk.pcap");
  fs.writeFileSync(junk, "this is not a capture file at all, honestly");
  await assert.rejects(readPcap(junk), /not a readable pcap file.*magic/);
  await assert.rejects(readPcap(path.join(dir, "missing.pcap")), /not a readable pcap file/);
  const short = path.join(dir, "short.pcap");
  fs.writeFileSync(short, "abc");
  await assert.rejects(readPcap(short), /shorter than a pcap header/);
  const wifi = path.join(dir, "wifi.pcap");
  writePcap(wifi, 105, []);
  await assert.rejects(readPcap(wifi), /link type 105 is not supported/);
});
