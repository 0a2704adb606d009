// The koffi io_uring on a non-blocking pipe: reads complete with the right lengths and bytes,
// in submission order; an empty pipe gives -EAGAIN; writes go through; a full SQ refuses.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { bufferAddress, IoUring } from "./io-uring.ts";
import { createWakePipe } from "./poll.ts";
import { EAGAIN, readFd, writeFd } from "./fd-io.ts";

const SLOT = 256;

function withPipe(body: (r: number, w: number, ring: IoUring) => void): void {
  const [r, w] = createWakePipe();
  const ring = new IoUring(8);
  try {
    body(r, w, ring);
  } finally {
    ring.close();
    fs.closeSync(r);
    fs.closeSync(w);
  }
}

test("reads into a SharedArrayBuffer complete in submission order with their bytes", () => {
  withPipe((r, w, ring) => {
    const memory = new SharedArrayBuffer(4 * SLOT);
    const base = bufferAddress(memory);
    const bytes = new Uint8Array(memory);
    // A pipe read takes what is there: write one message, read it, four times over, so each
    // read's length and data are its own.
    const messages = [3, 1, 200, 17].map((len, k) =>
      Uint8Array.from({ length: len }, (_, i) => (i * 7 + k) & 0xff)
    );
    for (let k = 0; k < messages.length; k++) {
      assert.equal(writeFd(w, messages[k], messages[k].length), messages[k].length);
      assert.ok(ring.read(r, base + k * SLOT, SLOT, 100 + k));
      assert.equal(ring.submit(1), 1);
    }
    assert.equal(ring.peek(), 4);
    for (let k = 0; k < 4; k++) {
      assert.equal(ring.cqeData(k), 100 + k);
      assert.equal(ring.cqeRes(k), messages[k].length);
      assert.deepEqual(bytes.subarray(k * SLOT, k * SLOT + messages[k].length), messages[k]);
    }
    ring.advance(4);
    assert.equal(ring.peek(), 0);
  });
});

test("several reads in one enter: those past the data get -EAGAIN, in order", () => {
  withPipe((r, w, ring) => {
    const memory = new SharedArrayBuffer(4 * SLOT);
    const base = bufferAddress(memory);
    const msg = Uint8Array.from([9, 8, 7, 6, 5]);
    writeFd(w, msg, msg.length);
    for (let k = 0; k < 4; k++) assert.ok(ring.read(r, base + k * SLOT, SLOT, k));
    assert.equal(ring.submit(4), 4);
    assert.equal(ring.peek(), 4);
    assert.deepEqual([0, 1, 2, 3].map((k) => ring.cqeData(k)), [0, 1, 2, 3]);
    assert.deepEqual([0, 1, 2, 3].map((k) => ring.cqeRes(k)), [5, -EAGAIN, -EAGAIN, -EAGAIN]);
    assert.deepEqual(new Uint8Array(memory, 0, 5), msg);
    ring.advance(4);
  });
});

test("writes through the ring arrive; the SQ refuses more than its entries", () => {
  withPipe((r, w, ring) => {
    const memory = new SharedArrayBuffer(SLOT);
    new Uint8Array(memory).set([1, 2, 3, 4], 0);
    const base = bufferAddress(memory);
    let queued = 0;
    while (ring.write(w, base, 4, queued)) queued++;
    assert.equal(queued, ring.sqEntries);
    assert.equal(ring.submit(queued), queued);
    assert.equal(ring.peek(), queued);
    for (let k = 0; k < queued; k++) assert.equal(ring.cqeRes(k), 4);
    ring.advance(queued);
    const into = new Uint8Array(SLOT);
    assert.equal(readFd(r, into, into.length), 4 * queued);
    assert.deepEqual(into.subarray(0, 8), Uint8Array.from([1, 2, 3, 4, 1, 2, 3, 4]));
    // The SQ is free again after the submit.
    assert.equal(ring.sqSpace, ring.sqEntries);
  });
});
