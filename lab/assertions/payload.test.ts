import { test } from "node:test";
import assert from "node:assert/strict";
import { buildIpv4, decodeRecords, ethernetFrame } from "../analysis/test-support.ts";
import { assertPayload, packetsCarrying } from "./payload.ts";

const REWRITTEN = "227 Entering Passive Mode (203,0,113,5,";

function packets(payloads: { text: string; port?: number }[]) {
  return decodeRecords(payloads.map((p, i) => ({
    time: 1 + i / 1000,
    data: ethernetFrame(buildIpv4({
      protocol: "tcp",
      src: "203.0.113.5",
      srcPort: p.port ?? 21,
      dst: "198.51.100.2",
      dstPort: 40000,
      flags: "P.",
      seq: 1 + i * 100,
      ack: 1,
      ipId: i,
      payload: p.text,
    })),
  })));
}

test("a text is found inside a payload, and only on the given port", () => {
  const ps = packets([
    { text: `220 hello\r\n` },
    { text: `${REWRITTEN}117,100).\r\n` },
    { text: `${REWRITTEN}117,101).\r\n`, port: 8021 },
  ]);
  assert.equal(packetsCarrying(ps, REWRITTEN).length, 2);
  assert.equal(packetsCarrying(ps, REWRITTEN, 21).length, 1);
  assert.equal(packetsCarrying(ps, "172,16,0,3").length, 0);
});

test("present passes at min packets and fails below, quoting the line", () => {
  const ps = packets([
    { text: `${REWRITTEN}117,100).\r\n` },
    { text: `${REWRITTEN}117,101).\r\n` },
  ]);
  const [ok] = assertPayload(ps, { present: [REWRITTEN], min: 2, network: "client network" });
  assert.equal(ok.passed, true, ok.line);
  assert.match(ok.details[0], /"227 Entering Passive Mode \(203,0,113,5,117,100\)\."$/);
  const [short] = assertPayload(ps, { present: [REWRITTEN], min: 3, network: "client network" });
  assert.equal(short.passed, false);
  assert.match(short.line, /only 2 packets of 2 on the client network carry/);
});

test("absent fails on the first packet that carries the text, and on an empty capture", () => {
  const ps = packets([
    { text: `${REWRITTEN}117,100).\r\n` },
    { text: "227 Entering Passive Mode (172,16,0,3,117,101).\r\n" },
  ]);
  const [leak] = assertPayload(ps, { absent: ["172,16,0,3"], network: "client network" });
  assert.equal(leak.passed, false);
  assert.match(leak.line, /1 packet on the client network carries '172,16,0,3' \(first: #2 /);
  const [clean] = assertPayload(ps.slice(0, 1), { absent: ["172,16,0,3"], network: "x" });
  assert.equal(clean.passed, true, clean.line);
  const [empty] = assertPayload([], { absent: ["172,16,0,3"], network: "x" });
  assert.equal(empty.passed, false);
  // Each text gives its own verdict, present ones first.
  const all = assertPayload(ps, { present: ["220", REWRITTEN], absent: ["x y z"], network: "n" });
  assert.deepEqual(all.map((r) => r.passed), [false, true, true]);
});
