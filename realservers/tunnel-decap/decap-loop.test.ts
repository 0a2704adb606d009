// The decapsulator's per-packet path (DecapLoop.handleBatch: check, merge, then write(2) of
// the inner packets to the "TUN" fd, here /dev/null) allocates nothing: measured by heap growth and
// garbage collections over a million packets of each tunnel type, GUE with remote checksum
// offload included. Prints the time per packet as a diagnostic (not a benchmark).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { PerformanceObserver } from "node:perf_hooks";
import { parseIPv4 } from "../../director/net/ipv4-address.ts";
import { Verdict } from "./drop-reasons.ts";
import { DecapChannel, DecapLoop } from "./decap-loop.ts";
import type { TunnelType } from "./outer-packet.ts";
import { fakeReceiver, gre, gue, icmpEcho, ipip, tcpSegment, tcpSyn } from "./test-packets.ts";

const DIRECTOR = "172.16.1.254";
const RS = "172.16.1.2";
const VIP = "203.0.113.5";
const CLIENT = "198.51.100.2";

function packets(type: TunnelType): Uint8Array[] {
  const echo = icmpEcho(CLIENT, VIP, 1, 1);
  const syn = tcpSyn(CLIENT, VIP, 40000, 80, true);
  if (type === "ipip") return [ipip(DIRECTOR, RS, echo), ipip("172.16.1.9", RS, echo)];
  if (type === "gre") return [gre(DIRECTOR, RS, echo, { checksum: true }), gre(DIRECTOR, RS, echo)];
  return [
    gue(DIRECTOR, RS, echo, { udpChecksum: true }),
    gue(DIRECTOR, RS, syn, { remcsum: { start: 20, offset: 16 } }),
  ];
}

for (const type of ["ipip", "gue", "gre"] as TunnelType[]) {
  test(`${type}: a million packets through handle() allocate nothing`, async (t) => {
    const devNull = fs.openSync("/dev/null", "w");
    const pkts = packets(type);
    const receiver = fakeReceiver(pkts);
    const channel = new DecapChannel(type, receiver);
    const loop = new DecapLoop([channel], devNull, {
      guePort: 6080,
      directors: new Set([parseIPv4(DIRECTOR)! | 0]),
      innerDestinations: new Set([parseIPv4(VIP)! | 0]),
    });
    const run = (rounds: number) => {
      for (let r = 0; r < rounds; r++) {
        receiver.refill();
        loop.handleBatch(channel, pkts.length);
      }
    };
    run(50_000);
    let collections = 0;
    const observer = new PerformanceObserver((list) => (collections += list.getEntries().length));
    observer.observe({ entryTypes: ["gc"] });
    const before = process.memoryUsage().heapUsed;
    const started = performance.now();
    const rounds = 500_000;
    run(rounds);
    const ns = ((performance.now() - started) * 1e6) / (rounds * pkts.length);
    const growth = process.memoryUsage().heapUsed - before;
    await new Promise((resolve) => setTimeout(resolve, 20));
    observer.disconnect();
    fs.closeSync(devNull);
    t.diagnostic(`${ns.toFixed(0)} ns per packet (check + write to /dev/null)`);
    const expectInjected = type === "ipip" ? 1 : 2;
    assert.equal(channel.counts[Verdict.INJECT], (rounds + 50_000) * expectInjected);
    assert.equal(channel.counts[Verdict.INJECT_FAILED], 0);
    assert.ok(growth < 4 * 1024 * 1024, `heap grew ${growth} bytes`);
    assert.ok(collections <= 4, `${collections} garbage collections`);
  });
}

test("one loop, three types: each channel decapsulates its own and counts apart", () => {
  const devNull = fs.openSync("/dev/null", "w");
  const types: TunnelType[] = ["ipip", "gue", "gre"];
  const channels = types.map((type) => new DecapChannel(type, fakeReceiver(packets(type))));
  // The GRE packets on an IPIP channel: its raw socket would never get them; if it did,
  // they are not tunnel packets of that type.
  const wrong = new DecapChannel("ipip", fakeReceiver(packets("gre")));
  const loop = new DecapLoop([...channels, wrong], devNull, {
    guePort: 6080,
    directors: new Set([parseIPv4(DIRECTOR)! | 0]),
    innerDestinations: new Set([parseIPv4(VIP)! | 0]),
  });
  for (const c of [...channels, wrong]) {
    loop.handleBatch(c, c.receiver.batch);
  }
  fs.closeSync(devNull);
  const counts = (c: DecapChannel) =>
    Object.fromEntries([...c.counts].map((n, v) => [v, n]).filter(([, n]) => n > 0));
  assert.deepEqual(counts(channels[0]!), { [Verdict.INJECT]: 1, [Verdict.NOT_DIRECTOR]: 1 });
  assert.deepEqual(counts(channels[1]!), { [Verdict.INJECT]: 2 });
  assert.deepEqual(counts(channels[2]!), { [Verdict.INJECT]: 2 });
  assert.deepEqual(counts(wrong), { [Verdict.NOT_TUNNEL]: 2 });
  assert.equal(loop.channel("gre"), channels[2]);
});

test("a batch of one flow's segments is written as one super-packet; counted per packet", () => {
  const devNull = fs.openSync("/dev/null", "w");
  const segs = [0, 1, 2].map((k) =>
    ipip(
      DIRECTOR,
      RS,
      tcpSegment(CLIENT, VIP, 40000, 80, new Uint8Array(1000).fill(k), {
        seq: 1000 + 1000 * k,
      }),
    )
  );
  const channel = new DecapChannel("ipip", fakeReceiver([...segs, packets("ipip")[0]!]));
  const loop = new DecapLoop([channel], devNull, {
    guePort: 6080,
    directors: new Set([parseIPv4(DIRECTOR)! | 0]),
    innerDestinations: new Set([parseIPv4(VIP)! | 0]),
  });
  loop.handleBatch(channel, 4);
  fs.closeSync(devNull);
  assert.equal(channel.counts[Verdict.INJECT], 4);
  assert.equal(channel.merger!.writes, 2, "the three segments in one write, the echo in another");
  assert.equal(channel.merger!.superPackets, 1);
  assert.equal(channel.merger!.mergedSegments, 3);
});
