// The koffi read/write used by the packet loop, on a pipe: bytes round-trip, and an empty
// non-blocking pipe gives -1 with EAGAIN instead of throwing.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { EAGAIN, lastErrno, readFd, writeFd } from "./fd-io.ts";
import { createWakePipe } from "./poll.ts";

test("readFd/writeFd move bytes through a pipe and report EAGAIN on an empty one", () => {
  const [r, w] = createWakePipe();
  try {
    const out = Uint8Array.from([1, 2, 3, 250, 0, 7]);
    assert.equal(writeFd(w, out, out.length), out.length);
    const into = new Uint8Array(64);
    assert.equal(readFd(r, into, into.length), out.length);
    assert.deepEqual(into.subarray(0, out.length), out);
    assert.equal(readFd(r, into, into.length), -1);
    assert.equal(lastErrno(), EAGAIN);
  } finally {
    fs.closeSync(r);
    fs.closeSync(w);
  }
});
