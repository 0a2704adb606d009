// The neighbour cache without a kernel: `ip -j` output parsed, and the entries' statuses
// following what a scripted `ip` reports (the real kernel: test/lab/neighbour.test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type IpRunner,
  isOnLink,
  NeighbourCache,
  NeighbourStatus,
  parseAddresses,
  parseNeighbours,
  parseOnLinkRoutes,
} from "./neighbour.ts";
import { parseIPv4 } from "./ipv4-address.ts";

const a = (text: string) => parseIPv4(text)!;

test("parseNeighbours reads addresses, states and MACs of `ip -j neigh`", () => {
  const json = JSON.stringify([
    { dst: "172.16.0.2", dev: "eth1", lladdr: "02:00:00:00:00:02", state: ["REACHABLE"] },
    { dst: "172.16.0.3", lladdr: "02:00:00:00:00:03", router: null, state: ["STALE"] },
    { dst: "172.16.0.4", state: ["FAILED"] },
    { dst: "172.16.0.5", state: ["INCOMPLETE"] },
    { dst: "172.16.0.6", lladdr: "02:00:00:00:00:06", state: ["DELAY"] },
    { dst: "172.16.0.7", lladdr: "02:00:00:00:00:07", state: ["PERMANENT"] },
    { dst: "fe80::1", lladdr: "02:00:00:00:00:08", state: ["REACHABLE"] },
  ]);
  const got = parseNeighbours(json).map((n) => [n.addr, n.state, n.mac ? [...n.mac] : null]);
  assert.deepEqual(got, [
    [a("172.16.0.2"), "REACHABLE", [2, 0, 0, 0, 0, 2]],
    [a("172.16.0.3"), "STALE", [2, 0, 0, 0, 0, 3]],
    [a("172.16.0.4"), "FAILED", null],
    [a("172.16.0.5"), "INCOMPLETE", null],
    [a("172.16.0.6"), "DELAY", [2, 0, 0, 0, 0, 6]],
    [a("172.16.0.7"), "PERMANENT", [2, 0, 0, 0, 0, 7]],
  ]);
  assert.deepEqual(parseNeighbours(""), []);
});

test("parseOnLinkRoutes keeps link-scope routes without a gateway; isOnLink tests prefixes", () => {
  const json = JSON.stringify([
    { dst: "default", gateway: "172.16.0.1", dev: "eth1" },
    { dst: "172.16.0.0/24", protocol: "kernel", scope: "link", prefsrc: "172.16.0.254" },
    { dst: "172.16.5.0/24", gateway: "172.16.0.9" },
    { dst: "172.16.9.7", scope: "link" },
  ]);
  const nets = parseOnLinkRoutes(json);
  assert.deepEqual(nets, [{ net: a("172.16.0.0"), bits: 24 }, { net: a("172.16.9.7"), bits: 32 }]);
  assert.equal(isOnLink(a("172.16.0.3"), nets), true);
  assert.equal(isOnLink(a("172.16.9.7"), nets), true);
  assert.equal(isOnLink(a("172.16.5.3"), nets), false);
  assert.equal(isOnLink(a("172.16.9.8"), nets), false);
});

test("parseAddresses lists the interface's own addresses", () => {
  const json = JSON.stringify([{
    ifname: "eth1",
    addr_info: [{ local: "172.16.0.254", prefixlen: 24 }],
  }]);
  assert.deepEqual(parseAddresses(json), [a("172.16.0.254")]);
});

/** An `ip` whose neighbour table the test sets; records what it was asked to resolve. */
function fakeIp() {
  const fake = {
    neigh: [] as object[],
    asked: [] as string[],
    routes: [{ dst: "172.16.0.0/24", scope: "link" }] as object[],
    run: (async (args, input) => {
      const cmd = args.join(" ");
      if (cmd.startsWith("-j -4 route")) return JSON.stringify(fake.routes);
      if (cmd.startsWith("-j -4 addr")) {
        return JSON.stringify([{ addr_info: [{ local: "172.16.0.254" }] }]);
      }
      if (cmd.startsWith("-j -4 neigh")) return JSON.stringify(fake.neigh);
      if (cmd === "-force -batch -") {
        fake.asked.push(...input!.trim().split("\n"));
        return "";
      }
      throw new Error(`unexpected ip ${cmd}`);
    }) as IpRunner,
  };
  return fake;
}

test("entries go PENDING → RESOLVED → FAILED → RESOLVED as the kernel's table says", async () => {
  const ip = fakeIp();
  const cache = await NeighbourCache.create("eth1", { capacity: 4, run: ip.run });
  assert.equal(cache.lookup(a("172.16.5.1")), "not-on-link");
  assert.equal(cache.lookup(a("172.16.0.254")), "local-address");
  const i = cache.lookup(a("172.16.0.2"));
  assert.equal(typeof i, "number");
  assert.equal(cache.lookup(a("172.16.0.2")), i);
  const index = i as number;
  assert.equal(cache.status[index], NeighbourStatus.PENDING);

  await cache.refresh(); // no kernel entry yet: asked to resolve
  assert.deepEqual(ip.asked, ["neigh replace 172.16.0.2 dev eth1 use"]);
  assert.equal(cache.status[index], NeighbourStatus.PENDING);

  ip.neigh = [{ dst: "172.16.0.2", lladdr: "02:00:00:00:00:02", state: ["REACHABLE"] }];
  ip.asked = [];
  await cache.refresh();
  assert.equal(cache.status[index], NeighbourStatus.RESOLVED);
  assert.deepEqual([...cache.macs.subarray(index * 6, index * 6 + 6)], [2, 0, 0, 0, 0, 2]);
  assert.deepEqual(ip.asked, []); // REACHABLE: the kernel keeps it
  assert.equal(cache.entry(index).mac, "02:00:00:00:00:02");

  ip.neigh = [{ dst: "172.16.0.2", lladdr: "02:00:00:00:00:02", state: ["STALE"] }];
  await cache.refresh(); // STALE: still usable, asked to confirm
  assert.equal(cache.status[index], NeighbourStatus.RESOLVED);
  assert.deepEqual(ip.asked, ["neigh replace 172.16.0.2 dev eth1 use"]);

  ip.neigh = [{ dst: "172.16.0.2", state: ["FAILED"] }];
  await cache.refresh();
  assert.equal(cache.status[index], NeighbourStatus.FAILED);
  assert.equal(cache.entry(index).kernelState, "FAILED");
  ip.asked = [];
  ip.neigh = [{ dst: "172.16.0.2", state: ["INCOMPLETE"] }];
  await cache.refresh(); // retrying: still reported failed until it resolves
  assert.equal(cache.status[index], NeighbourStatus.FAILED);
  assert.deepEqual(ip.asked, []); // the kernel is resolving: not asked again

  ip.neigh = [{ dst: "172.16.0.2", lladdr: "02:00:00:00:00:22", state: ["REACHABLE"] }];
  await cache.refresh(); // back, with a new MAC
  assert.equal(cache.entry(index).mac, "02:00:00:00:00:22");

  ip.routes = [];
  await cache.refresh();
  assert.equal(cache.status[index], NeighbourStatus.NOT_ON_LINK);

  cache.release(a("172.16.0.2"));
  assert.equal(cache.status[index], NeighbourStatus.FREE);
  assert.deepEqual(cache.entries(), []);
});

test("a full table refuses new next hops", async () => {
  const ip = fakeIp();
  const cache = await NeighbourCache.create("eth1", { capacity: 2, run: ip.run });
  assert.equal(cache.lookup(a("172.16.0.2")), 0);
  assert.equal(cache.lookup(a("172.16.0.3")), 1);
  assert.equal(cache.lookup(a("172.16.0.4")), "table-full");
  cache.release(a("172.16.0.2"));
  assert.equal(cache.lookup(a("172.16.0.4")), 0);
});
