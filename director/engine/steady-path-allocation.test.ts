// The steady path allocates nothing: packets of an established connection, both directions,
// go through the engine without creating heap objects (addresses travel as small integers,
// views are reused). Measured by heap growth and garbage collections over a million packets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PerformanceObserver } from "node:perf_hooks";
import { Rng } from "../packet/test-support.ts";
import { ACK, articleEngine, CLIENT, parsed, SYN, tcpPacket, VIP } from "./engine-test-support.ts";

test("two million packets of an established connection allocate nothing", async () => {
  const rng = new Rng(5);
  const engine = articleEngine(Date.now());
  const syn = tcpPacket(rng, CLIENT, 4000, VIP, 80, SYN);
  const forwarded = parsed(syn, engine.process(syn, syn.length));
  const inbound = tcpPacket(rng, CLIENT, 4000, VIP, 80, ACK, { payloadLen: 100 });
  const outbound = tcpPacket(
    rng,
    forwarded.ip.dst,
    forwarded.tcp.dstPort,
    CLIENT,
    4000,
    ACK,
    { payloadLen: 100 },
  );
  const a = new Uint8Array(inbound.length);
  const b = new Uint8Array(outbound.length);
  const run = (pairs: number) => {
    for (let i = 0; i < pairs; i++) {
      a.set(inbound);
      engine.process(a, a.length);
      b.set(outbound);
      engine.process(b, b.length);
    }
  };
  run(100_000); // warm up: compile the hot path
  let collections = 0;
  const observer = new PerformanceObserver((list) => (collections += list.getEntries().length));
  observer.observe({ entryTypes: ["gc"] });
  const before = process.memoryUsage().heapUsed;
  const pairs = 1_000_000;
  const inBefore = engine.totals.inpkts;
  run(pairs);
  const growth = process.memoryUsage().heapUsed - before;
  await new Promise((resolve) => setTimeout(resolve, 20)); // let GC entries arrive
  observer.disconnect();
  assert.equal(engine.totals.inpkts - inBefore, pairs, "every packet was forwarded");
  // One heap number per packet would be 32 MB here and about 16 scavenges; what remains is
  // the compiler's own bookkeeping (well under a byte per packet, a few collections at most).
  assert.ok(growth < 4 * 1024 * 1024, `heap grew ${growth} bytes over ${2 * pairs} packets`);
  assert.ok(collections <= 4, `${collections} garbage collections over ${2 * pairs} packets`);
});
