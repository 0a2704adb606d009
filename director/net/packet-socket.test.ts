// The packet socket's pure parts: MAC text both ways, the Ethernet header it writes, and a
// sentence for an interface that is not there (the sending itself: test/lab/packet-socket).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ETH_HLEN,
  formatMac,
  FRAME_IP_OFFSET,
  interfaceInfo,
  PacketSocket,
  parseMac,
  writeEthernetHeader,
} from "./packet-socket.ts";

test("parseMac and formatMac round-trip; malformed text is refused with a sentence", () => {
  const mac = parseMac("02:fc:0A:00:00:ff");
  assert.deepEqual([...mac], [2, 0xfc, 0x0a, 0, 0, 0xff]);
  assert.equal(formatMac(mac), "02:fc:0a:00:00:ff");
  for (
    const bad of ["02:fc:0a:00:00", "02:fc:0a:00:00:ff:01", "02-fc-0a-00-00-ff", "2:fc:a:0:0:f"]
  ) {
    assert.throws(() => parseMac(bad), /is not a MAC address/);
  }
});

test("writeEthernetHeader writes destination, source and the IPv4 type at an offset", () => {
  const buf = new Uint8Array(FRAME_IP_OFFSET);
  const table = Uint8Array.from([0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6]); // entry 1 of a MAC table
  writeEthernetHeader(buf, 10, table, 6, parseMac("aa:bb:cc:dd:ee:ff"), 0);
  assert.deepEqual([...buf.subarray(10, 10 + ETH_HLEN)], [
    1,
    2,
    3,
    4,
    5,
    6,
    0xaa,
    0xbb,
    0xcc,
    0xdd,
    0xee,
    0xff,
    0x08,
    0x00,
  ]);
  assert.deepEqual([...buf.subarray(0, 10)], new Array(10).fill(0));
});

test("an interface that does not exist is named in the error", () => {
  assert.throws(() => interfaceInfo("lvsnosuch0"), /interface 'lvsnosuch0' does not exist/);
  assert.throws(() => PacketSocket.open("lvsnosuch0"), /interface 'lvsnosuch0' does not exist/);
  assert.throws(() => PacketSocket.open("lo", { batch: 0 }), /1-1024 slots/);
});
