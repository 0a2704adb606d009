import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inetAton } from "./inet-aton.ts";

describe("inetAton (glibc inet_aton)", () => {
  const ok: [string, number][] = [
    ["203.0.113.5", 0xcb007105],
    ["255.255.255.255", 0xffffffff],
    ["0.0.0.0", 0],
    ["203.0.28933", 0xcb007105], // a.b.c: c fills 16 bits
    ["203.7237", 0xcb001c45], // a.b: b fills 24 bits
    ["3405803781", 0xcb007105], // one number: all 32 bits
    ["0xcb.0.0x71.05", 0xcb007105], // hex and octal parts
    ["0313.0.113.5", 0xcb007105],
    ["24", 24], // why "-M 24" is not a /24
    ["203.0.113.5 trailing", 0xcb007105], // stops at white space
  ];
  for (const [text, value] of ok) it(`${text}`, () => assert.equal(inetAton(text), value));
  const bad = [
    "",
    "203.0.113.256",
    "203.0.113.5.",
    "203..113.5",
    "1.2.3.4.5",
    "08.1.2.3",
    "0x",
    "a.b.c.d",
    "203.0.65536",
    "4294967296",
    "-1",
    " 1.2.3.4",
    "1.2.3.4x",
  ];
  for (const text of bad) {
    it(`rejects ${JSON.stringify(text)}`, () => assert.equal(inetAton(text), null));
  }
});
