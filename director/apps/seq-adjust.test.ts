// Sequence correction after payload resizes: seq of the resized stream, ACK and SACK of the
// other side, retransmissions, growing and shrinking rewrites, wrap-around, checksums.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SeqAdjust, seqAfter, shiftSeq, unshiftAck } from "./seq-adjust.ts";
import { inspect, segment, viewOf } from "./test-support.ts";
import { parseIPv4 } from "../net/ipv4-address.ts";

const CLIENT = parseIPv4("198.51.100.2")!;
const RS = parseIPv4("172.16.0.3")!;
const SLOT = 7;

function fromServer(seq: number, ack: number, extra: Partial<Parameters<typeof segment>[0]> = {}) {
  return segment({ src: RS, dst: CLIENT, sport: 21, dport: 40000, seq, ack, ...extra });
}
function fromClient(seq: number, ack: number, extra: Partial<Parameters<typeof segment>[0]> = {}) {
  return segment({ src: CLIENT, dst: RS, sport: 40000, dport: 21, seq, ack, ...extra });
}

test("seqAfter follows serial-number order across the 2^32 wrap", () => {
  assert.equal(seqAfter(5, 4), true);
  assert.equal(seqAfter(4, 5), false);
  assert.equal(seqAfter(4, 4), false);
  assert.equal(seqAfter(3, 0xfffffff0), true);
  assert.equal(seqAfter(0xfffffff0, 3), false);
  assert.equal(seqAfter(0x7fffffff, 0), true);
});

test("shiftSeq: after the resized segment delta, at or before it the previous delta", () => {
  assert.equal(shiftSeq(1000, 1000, 3, 1), 1001); // the resized segment itself
  assert.equal(shiftSeq(999, 1000, 3, 1), 1000);
  assert.equal(shiftSeq(1001, 1000, 3, 1), 1004);
  assert.equal(shiftSeq(0xffffffff, 0xfffffff0, 2, 0), 1); // wraps
  assert.equal(shiftSeq(5, 0xfffffff0, -2, 0), 3);
});

test("unshiftAck: acks past the resized segment's start lose delta, others previous", () => {
  // Resized segment at original 1000 (shifted start 1001 with previous 1), 10 bytes grown by 2.
  assert.equal(unshiftAck(1001, 1000, 3, 1), 1000); // acks up to the segment start
  assert.equal(unshiftAck(1014, 1000, 3, 1), 1011); // acks the whole resized segment
  assert.equal(unshiftAck(500, 1000, 3, 1), 499);
  assert.equal(unshiftAck(2, 0xfffffffe, 4, 0), 0xfffffffe); // wraps
});

test("one growing rewrite: later server seqs grow, the retransmission keeps its seq, client acks shrink", () => {
  const seq = new SeqAdjust(16);
  // The server's segment at 5000 (30 bytes) became 31 bytes.
  seq.recordOutbound(SLOT, 5000, 1);
  // Next server segment at 5030 arrives at the client as 5031.
  let buf = fromServer(5030, 900, { payload: "226 Transfer complete.\r\n" });
  seq.fixOutbound(SLOT, viewOf(buf));
  assert.equal(inspect(buf).seq, 5031);
  assert.equal(inspect(buf).ack, 900, "no client rewrite: ack unchanged");
  // A retransmission of the resized segment keeps its original start.
  buf = fromServer(5000, 900, { payload: "227 x" });
  seq.fixOutbound(SLOT, viewOf(buf));
  assert.equal(inspect(buf).seq, 5000);
  // The client acknowledges 5061 (30 + 1 + 30 bytes) = server's 5060.
  buf = fromClient(900, 5061);
  seq.fixInbound(SLOT, viewOf(buf));
  assert.equal(inspect(buf).ack, 5060);
  assert.equal(inspect(buf).seq, 900);
  // An ack of the bytes before the resized segment is unchanged.
  buf = fromClient(900, 5000);
  seq.fixInbound(SLOT, viewOf(buf));
  assert.equal(inspect(buf).ack, 5000);
});

test("a retransmitted resized segment does not count twice", () => {
  const seq = new SeqAdjust(16);
  seq.recordOutbound(SLOT, 5000, 1);
  seq.recordOutbound(SLOT, 5000, 1); // the same segment again
  seq.recordOutbound(SLOT, 4000, 1); // an older one
  assert.equal(seq.outDelta[SLOT], 1);
  assert.equal(seq.outPrevious[SLOT], 0);
  assert.equal(seq.outInit[SLOT], 5000);
});

test("growing then shrinking rewrites: deltas accumulate, retransmissions get the previous delta", () => {
  const seq = new SeqAdjust(16);
  seq.recordOutbound(SLOT, 1000, 2); // +2
  seq.recordOutbound(SLOT, 2000, -3); // now -1 in total, previous +2
  assert.equal(seq.outDelta[SLOT], -1);
  assert.equal(seq.outPrevious[SLOT], 2);
  const cases: [number, number][] = [
    [1500, 1502], // between the rewrites: +2
    [2000, 2002], // the shrunk segment itself (retransmitted): +2
    [2100, 2099], // after both: -1
  ];
  for (const [orig, want] of cases) {
    const buf = fromServer(orig, 1, { payload: "x" });
    seq.fixOutbound(SLOT, viewOf(buf));
    assert.equal(inspect(buf).seq, want, `server seq ${orig}`);
  }
  // Client acks: the shrunk segment starts at 2002 on the client side.
  const acks: [number, number][] = [
    [1502, 1500],
    [2002, 2000], // up to the start of the shrunk segment
    [2099, 2100], // past it
  ];
  for (const [seen, want] of acks) {
    const buf = fromClient(1, seen);
    seq.fixInbound(SLOT, viewOf(buf));
    assert.equal(inspect(buf).ack, want, `client ack ${seen}`);
  }
});

test("SACK blocks of the client are shifted like its ack, checksums stay right (even and odd offsets)", () => {
  for (const oddSack of [false, true]) {
    const seq = new SeqAdjust(16);
    seq.recordOutbound(SLOT, 5000, 1);
    const buf = fromClient(900, 5000, {
      sack: [[5031, 5061], [5100, 5200], [4000, 4100]],
      oddSack,
    });
    seq.fixInbound(SLOT, viewOf(buf));
    const seen = inspect(buf); // verifies the TCP checksum by full recomputation
    assert.deepEqual(seen.sack, [[5030, 5060], [5099, 5199], [4000, 4100]], `odd=${oddSack}`);
    assert.equal(seen.ack, 5000);
  }
});

test("server packets' acks and SACKs follow client-side rewrites (the other direction)", () => {
  const seq = new SeqAdjust(16);
  seq.recordInbound(SLOT, 300, -2); // a client command shrank by 2
  let buf = fromClient(320, 77, { payload: "NOOP\r\n" });
  seq.fixInbound(SLOT, viewOf(buf));
  assert.equal(inspect(buf).seq, 318);
  buf = fromServer(77, 324, { sack: [[330, 340]] });
  seq.fixOutbound(SLOT, viewOf(buf));
  const seen = inspect(buf);
  assert.equal(seen.ack, 326);
  assert.deepEqual(seen.sack, [[332, 342]]);
});

test("NEEDS_CSUM packets keep their pseudo-header sum while seq/ack/SACK change", () => {
  const seq = new SeqAdjust(16);
  seq.recordOutbound(SLOT, 5000, 1);
  const buf = fromClient(900, 5061, { partial: true, sack: [[5070, 5080]] });
  seq.fixInbound(SLOT, viewOf(buf));
  const seen = inspect(buf); // checks the field still equals the pseudo-header sum
  assert.equal(seen.ack, 5060);
  assert.deepEqual(seen.sack, [[5069, 5079]]);
});

test("a packet without ACK keeps its ack field; reset forgets the slot", () => {
  const seq = new SeqAdjust(16);
  seq.recordOutbound(SLOT, 5000, 1);
  const buf = fromClient(900, 9999, { flags: 0x02 });
  seq.fixInbound(SLOT, viewOf(buf));
  assert.equal(inspect(buf).ack, 9999);
  seq.reset(SLOT);
  const later = fromServer(6000, 1, { payload: "x" });
  seq.fixOutbound(SLOT, viewOf(later));
  assert.equal(inspect(later).seq, 6000);
});

test("sequence numbers wrap: a rewrite just below 2^32 shifts segments after the wrap", () => {
  const seq = new SeqAdjust(16);
  seq.recordOutbound(SLOT, 0xfffffff0, 1);
  const buf = fromServer(0x10, 1, { payload: "x" });
  seq.fixOutbound(SLOT, viewOf(buf));
  assert.equal(inspect(buf).seq, 0x11);
  const ack = fromClient(1, 0x12);
  seq.fixInbound(SLOT, viewOf(ack));
  assert.equal(inspect(ack).ack, 0x11);
});
