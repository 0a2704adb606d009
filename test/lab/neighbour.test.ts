// director/net/neighbour.ts against a real kernel, two namespaces joined by a veth: a live
// peer resolves to the MAC its `ip link` shows, an absent address goes FAILED within a few
// seconds and is reported so, an address off the interface's networks is refused with its
// reason, and the peer's interface going down and up takes the entry away and back.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { labTestBlocker, requireRoot } from "../../lab/testing/require-root.ts";
import { createVethPair, type VethPair } from "./support/veth-pair.ts";
import { ipRunner, NeighbourCache, NeighbourStatus } from "../../director/net/neighbour.ts";
import { parseIPv4 } from "../../director/net/ipv4-address.ts";

const canRun = labTestBlocker() === null;
let pair: VethPair;
let cache: NeighbourCache;

before(async () => {
  if (!canRun) return;
  pair = createVethPair("lvsdrnnb", 6);
  cache = await NeighbourCache.create(pair.devA, { run: ipRunner(pair.a) });
});

after(() => {
  if (!canRun) return;
  pair.remove();
});

/** Refreshes every 200 ms until entry `index` has `status`; returns the seconds it took. */
async function until(index: number, status: number, limitS: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    await cache.refresh();
    if (Atomics.load(cache.status, index) === status) return (Date.now() - start) / 1000;
    if (Date.now() - start > limitS * 1000) {
      assert.fail(
        `entry ${JSON.stringify(cache.entry(index))} did not reach ${status} in ${limitS} s`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function linkMac(ns: string, dev: string): string {
  return (JSON.parse(pair.exec(ns, ["ip", "-j", "link", "show", "dev", dev])) as Array<
    { address: string }
  >)[0]!.address;
}

test("a live peer resolves to the MAC of its interface", async (t) => {
  if (!requireRoot(t)) return;
  const index = cache.lookup(parseIPv4(pair.addrB)!);
  assert.equal(typeof index, "number");
  const took = await until(index as number, NeighbourStatus.RESOLVED, 3);
  assert.ok(took < 3, `resolved in ${took} s`);
  t.diagnostic(`resolved in ${took} s: ${JSON.stringify(cache.entry(index as number))}`);
  assert.equal(cache.entry(index as number).mac, linkMac(pair.b, pair.devB));
  assert.match(cache.entry(index as number).kernelState, /REACHABLE|STALE|DELAY|PROBE/);
});

test("an absent address goes FAILED within a few seconds and is reported as such", async (t) => {
  if (!requireRoot(t)) return;
  const index = cache.lookup(parseIPv4("172.16.6.3")!) as number;
  assert.equal(typeof index, "number");
  const took = await until(index, NeighbourStatus.FAILED, 8);
  assert.ok(took < 8, `failed after ${took} s`);
  t.diagnostic(`FAILED after ${took} s`);
  assert.equal(cache.entry(index).kernelState, "FAILED");
  assert.equal(cache.entry(index).mac, null);
  assert.equal(Atomics.load(cache.status, index), NeighbourStatus.FAILED);
  cache.release(parseIPv4("172.16.6.3")!);
});

test("an address not on a directly attached network, or the interface's own, is refused", (t) => {
  if (!requireRoot(t)) return;
  assert.equal(cache.lookup(parseIPv4("172.16.99.2")!), "not-on-link");
  assert.equal(cache.lookup(parseIPv4(pair.addrA)!), "local-address");
});

test("the peer's interface down takes the entry away; up again, it recovers", async (t) => {
  if (!requireRoot(t)) return;
  const index = cache.lookup(parseIPv4(pair.addrB)!) as number;
  await until(index, NeighbourStatus.RESOLVED, 3);
  pair.exec(pair.b, ["ip", "link", "set", pair.devB, "down"]);
  const down = await until(index, NeighbourStatus.FAILED, 8);
  pair.exec(pair.b, ["ip", "link", "set", pair.devB, "up"]);
  const took = await until(index, NeighbourStatus.RESOLVED, 8);
  assert.ok(took < 8);
  t.diagnostic(`FAILED ${down} s after the peer went down, RESOLVED ${took} s after it came up`);
  assert.equal(cache.entry(index).mac, linkMac(pair.b, pair.devB));
});
