// The TUN readers on a datagram socket pair (one packet per read, as a TUN device gives): both
// modes hand over every packet in order, a drop leaves no gap in what the ring publishes (the
// uring reader copies the next packet down to the ring's head), and an empty queue is -EAGAIN.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import koffi from "koffi";
import { TransmitRing } from "../engine/transmit-ring.ts";
import { EAGAIN, writeFd } from "./fd-io.ts";
import { resolveTunRead, tunReader, type TunReadMode, URING_READ_BATCH } from "./tun-reader.ts";

const AF_UNIX = 1;
const SOCK_DGRAM_NONBLOCK = 2 | 0o4000;
const SLOT = 512;

type SocketpairFn = (domain: number, type: number, protocol: number, sv: Int32Array) => number;
const socketpair = koffi.load("libc.so.6").func(
  "int socketpair(int domain, int type, int protocol, _Out_ int *sv)",
) as SocketpairFn;

for (const mode of ["uring", "read"] satisfies TunReadMode[]) {
  test(`${mode}: packets in order, a dropped one leaves no gap, then -EAGAIN`, () => {
    const sv = new Int32Array(2);
    assert.equal(socketpair(AF_UNIX, SOCK_DGRAM_NONBLOCK, 0, sv), 0);
    try {
      const memory = TransmitRing.allocate(URING_READ_BATCH, SLOT);
      const ring = new TransmitRing(memory);
      const reader = tunReader(mode, sv[0], ring, memory);
      const packets = [5, 60, 300, 1].map((len, k) => Uint8Array.from({ length: len }, () => k));
      for (const p of packets) assert.equal(writeFd(sv[1], p, p.length), p.length);
      for (let k = 0; k < packets.length; k++) {
        const n = reader.read();
        assert.equal(n, packets[k].length);
        assert.deepEqual(new Uint8Array(reader.buf.subarray(0, n)), packets[k]);
        if (k !== 0) reader.publish(n); // the first is dropped
      }
      assert.equal(reader.read(), -EAGAIN);
      // What the ring publishes, as the transmit worker would write it.
      const written: number[][] = [];
      ring.stop();
      ring.consume((buf, count) => {
        written.push([...buf.subarray(0, count)]);
        return count;
      });
      assert.deepEqual(written, packets.slice(1).map((p) => [...p]));
      // The queue refills: reading goes on after the empty one.
      assert.equal(writeFd(sv[1], packets[2], packets[2].length), packets[2].length);
      assert.equal(reader.read(), packets[2].length);
    } finally {
      fs.closeSync(sv[0]);
      fs.closeSync(sv[1]);
    }
  });
}

test("auto is uring where an io_uring can be set up (this kernel allows it), read otherwise", () => {
  const allowed = fs.readFileSync("/proc/sys/kernel/io_uring_disabled", "utf8").trim() === "0";
  const auto = resolveTunRead("auto");
  assert.equal(auto.mode, allowed ? "uring" : "read");
  if (!allowed) assert.match(auto.why ?? "", /io_uring_setup failed/);
  assert.deepEqual(resolveTunRead("read"), { mode: "read" });
});
