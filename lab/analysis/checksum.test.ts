import { test } from "node:test";
import assert from "node:assert/strict";
import { foldSum, icmpChecksumOk, ipHeaderChecksumOk, sumBytes } from "./checksum.ts";

test("RFC 1071's worked example sums to ddf2", () => {
  // RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 → sum 0xddf2.
  const b = new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
  assert.equal(foldSum(sumBytes(b, 0, b.length)), 0xddf2);
});

test("an odd length pads the last byte with zero", () => {
  const b = new Uint8Array([0x12, 0x34, 0x56]);
  assert.equal(foldSum(sumBytes(b, 0, 3)), 0x1234 + 0x5600);
});

test("a known IPv4 header verifies, and fails once a byte changes", () => {
  // A textbook header: 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7.
  const hex = "450000730000400040 11b861c0a80001c0a800c7".replace(/ /g, "");
  const b = Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
  assert.equal(ipHeaderChecksumOk(b, 0, 20), true);
  b[8] = 0x3f; // TTL decremented without fixing the checksum
  assert.equal(ipHeaderChecksumOk(b, 0, 20), false);
});

test("an ICMP echo request verifies", () => {
  // type 8 code 0, checksum f7fe for id 1 seq 0 with no data: 0800 f7fe 0001 0000.
  const b = new Uint8Array([8, 0, 0xf7, 0xfe, 0, 1, 0, 0]);
  assert.equal(icmpChecksumOk(b, 0, 8), true);
  b[7] = 1;
  assert.equal(icmpChecksumOk(b, 0, 8), false);
});
