// Payload replacement: growing, shrinking and same-length rewrites keep the IP length and
// both checksums right (full and NEEDS_CSUM), the tail moves, and no room means no change.
import { test } from "node:test";
import assert from "node:assert/strict";
import { replacePayload, tcpChecksumValid } from "./mangle.ts";
import { inspect, segment, viewOf } from "./test-support.ts";
import { parseIPv4 } from "../net/ipv4-address.ts";

const A = parseIPv4("172.16.0.3")!;
const B = parseIPv4("198.51.100.2")!;
const enc = new TextEncoder();
const REPLY = "227 Entering Passive Mode (172,16,0,3,117,50).\r\n";

function rewrite(buf: Uint8Array, from: string, to: string): number {
  const view = viewOf(buf);
  const payload = new TextDecoder().decode(buf.subarray(view.tcp.payloadOffset, view.packetEnd));
  const at = view.tcp.payloadOffset + payload.indexOf(from);
  const text = enc.encode(to);
  return replacePayload(view, at, at + from.length, text, text.length);
}

for (const partial of [false, true]) {
  const kind = partial ? "NEEDS_CSUM" : "full checksum";
  test(`${kind}: growing, shrinking and equal-length rewrites`, () => {
    for (
      const [to, diff] of [
        ["203,0,113,5,117,50", 1],
        ["10,0,0,1,117,50", -2],
        ["172,16,0,9,117,50", 0],
      ] as const
    ) {
      const buf = segment({
        src: A,
        dst: B,
        sport: 21,
        dport: 40000,
        seq: 1,
        ack: 1,
        payload: REPLY + "trailing text\r\n",
        partial,
      });
      const before = inspect(buf).length;
      assert.equal(rewrite(buf, "172,16,0,3,117,50", to), diff);
      const seen = inspect(buf); // IP and TCP checksums recomputed from scratch
      assert.equal(seen.length, before + diff);
      assert.equal(
        seen.payload,
        `227 Entering Passive Mode (${to}).\r\ntrailing text\r\n`,
      );
    }
  });
}

test("no room in the buffer: NaN and the packet is untouched", () => {
  const buf = segment({
    src: A,
    dst: B,
    sport: 21,
    dport: 40000,
    seq: 1,
    ack: 1,
    payload: REPLY,
    room: 0,
  });
  const copy = buf.slice();
  assert.ok(Number.isNaN(rewrite(buf, "172,16,0,3", "203,0,113,5")));
  assert.deepEqual(buf, copy);
  // Shrinking needs no room.
  assert.equal(rewrite(buf, "172,16,0,3", "10,0,0,1"), -2);
  assert.equal(
    inspect(buf, buf.length - 2).payload,
    "227 Entering Passive Mode (10,0,0,1,117,50).\r\n",
  );
});

test("tcpChecksumValid tells a corrupt segment from a good one", () => {
  const buf = segment({ src: A, dst: B, sport: 21, dport: 1, seq: 1, ack: 1, payload: REPLY });
  assert.equal(tcpChecksumValid(viewOf(buf)), true);
  buf[buf.length - 129] ^= 0x01; // flip a payload bit (128 spare bytes follow the packet)
  assert.equal(tcpChecksumValid(viewOf(buf)), false);
});
