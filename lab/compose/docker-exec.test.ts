import { test } from "node:test";
import assert from "node:assert/strict";
import { demuxBuffer } from "./docker-exec.ts";

function frame(stream: 1 | 2, text: string): Buffer {
  const body = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

test("Docker's multiplexed log frames are split into stdout and stderr", () => {
  const buf = Buffer.concat([
    frame(1, "lvslab-director ready: tun lvs0\n"),
    frame(2, "warning: x\n"),
    frame(1, "second line\n"),
    frame(2, ""),
  ]);
  assert.deepEqual(demuxBuffer(buf), {
    stdout: "lvslab-director ready: tun lvs0\nsecond line\n",
    stderr: "warning: x\n",
  });
});

test("a truncated last frame is cut, not misread", () => {
  const whole = frame(1, "complete\n");
  const cut = frame(1, "partial line\n").subarray(0, 6);
  assert.deepEqual(demuxBuffer(Buffer.concat([whole, cut])), { stdout: "complete\n", stderr: "" });
});
