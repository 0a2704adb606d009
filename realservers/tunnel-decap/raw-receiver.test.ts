// The GUE raw socket's classic BPF program, run by a small interpreter of the four opcodes
// it uses: datagrams from a director (any port) or to the GUE port (any source) pass, the
// host's other UDP traffic is dropped in the kernel; the placeholder's program drops all.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseIPv4 } from "../../director/net/ipv4-address.ts";
import { type BpfInstruction, DROP_ALL, gueRawFilter } from "./raw-receiver.ts";
import { gue, icmpEcho } from "./test-packets.ts";

/** Runs a program over pkt the way sk_run_filter would: the return value (0 = drop). */
function runBpf(prog: BpfInstruction[], pkt: Uint8Array): number {
  let a = 0;
  let x = 0;
  for (let pc = 0; pc < prog.length; pc++) {
    const [code, jt, jf, k] = prog[pc]!;
    const at = code === 0x48 ? x + k : k;
    switch (code) {
      case 0x20:
        a = ((pkt[at]! << 24) | (pkt[at + 1]! << 16) | (pkt[at + 2]! << 8) | pkt[at + 3]!) >>> 0;
        break;
      case 0x48:
        a = (pkt[at]! << 8) | pkt[at + 1]!;
        break;
      case 0xb1:
        x = (pkt[k]! & 0x0f) * 4;
        break;
      case 0x15:
        pc += a === k ? jt : jf;
        break;
      case 0x06:
        return k;
      default:
        throw new Error(`opcode ${code}`);
    }
  }
  throw new Error("fell off the end");
}

const directors = ["172.16.1.254", "172.16.1.253"].map((a) => parseIPv4(a)!);
const prog = gueRawFilter(directors, 6080);
const inner = icmpEcho("198.51.100.2", "203.0.113.5", 1, 1);

test("from a director: passes on any port", () => {
  for (const src of ["172.16.1.254", "172.16.1.253"]) {
    for (const port of [6080, 6081, 53]) {
      assert.notEqual(runBpf(prog, gue(src, "172.16.1.2", inner, { port })), 0, `${src}:${port}`);
    }
  }
});

test("from anyone else: passes only to the GUE port", () => {
  assert.notEqual(runBpf(prog, gue("172.16.1.9", "172.16.1.2", inner)), 0);
  assert.equal(runBpf(prog, gue("172.16.1.9", "172.16.1.2", inner, { port: 53 })), 0);
  assert.equal(runBpf(prog, gue("198.51.100.2", "203.0.113.5", inner, { port: 6081 })), 0);
});

test("the port is found behind IP options", () => {
  const plain = gue("172.16.1.9", "172.16.1.2", inner, { port: 6080 });
  const withOptions = new Uint8Array(plain.length + 8);
  withOptions.set(plain.subarray(0, 20));
  withOptions[0] = 0x47;
  withOptions.set(plain.subarray(20), 28);
  assert.notEqual(runBpf(prog, withOptions), 0);
  withOptions[31] = 0x81; // another port, in the options-shifted UDP header
  assert.equal(runBpf(prog, withOptions), 0);
});

test("one director, and the placeholder's drop-all", () => {
  const one = gueRawFilter([parseIPv4("172.16.1.254")!], 19523);
  assert.notEqual(runBpf(one, gue("172.16.1.254", "172.16.1.2", inner, { port: 1 })), 0);
  assert.notEqual(runBpf(one, gue("172.16.1.7", "172.16.1.2", inner, { port: 19523 })), 0);
  assert.equal(runBpf(one, gue("172.16.1.7", "172.16.1.2", inner, { port: 6080 })), 0);
  assert.equal(runBpf(DROP_ALL, gue("172.16.1.254", "172.16.1.2", inner)), 0);
});
