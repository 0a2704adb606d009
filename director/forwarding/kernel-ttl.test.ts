// A packet the engine writes back into the TUN device gets back the TTL the kernel's second
// forwarding takes: NAT leaves the client's TTL one lower overall, as IPVS does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { giveBackForwardingTtl } from "./kernel-ttl.ts";
import {
  articleEngine,
  CLIENT,
  parsed,
  SYN,
  tcpPacket,
  VIP,
} from "../engine/engine-test-support.ts";
import { IP, put16, refIpChecksum, Rng, u16 } from "../packet/test-support.ts";

function segment(ttl: number): Uint8Array {
  const buf = tcpPacket(new Rng(ttl), CLIENT, 4000, VIP, 80, SYN);
  buf[IP + 8] = ttl;
  put16(buf, IP + 10, refIpChecksum(buf));
  return buf;
}

test("one more TTL, the header checksum still valid; 255 stays 255", () => {
  for (const ttl of [1, 62, 254, 255]) {
    const buf = segment(ttl);
    giveBackForwardingTtl(parsed(buf, buf.length));
    assert.equal(buf[IP + 8], ttl === 255 ? 255 : ttl + 1);
    assert.equal(u16(buf, IP + 10), refIpChecksum(buf), `checksum at TTL ${ttl}`);
  }
});

test("NAT: the rewritten packet goes back into the TUN device with its TTL raised by one", () => {
  const engine = articleEngine();
  const buf = segment(63); // the client sent 64; the kernel took one on the way in
  assert.ok(engine.process(buf, buf.length) > 0);
  assert.equal(buf[IP + 8], 64, "the kernel's forwarding out of the TUN device leaves 63");
  assert.equal(u16(buf, IP + 10), refIpChecksum(buf));
});
