// Where DR frames go, decided off the packet path: the route names the interface, the
// neighbour cache the MAC; the worker is told once per server; the timer reads the kernel's
// tables (a process each time) every look only while a server is unresolved.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RouteNextHops } from "./route-next-hops.ts";
import type { IpRunner } from "./neighbour.ts";
import { NOT_ON_LINK } from "./link-table.ts";
import { parseIPv4 } from "./ipv4-address.ts";

const a = (s: string) => parseIPv4(s)!;

function fakeKernel() {
  const k = {
    calls: [] as string[],
    resolved: false,
    /** Nothing answers ARP any more: the entry is FAILED and asking does not help. */
    failed: false,
    run: (async (args) => {
      const cmd = args.join(" ");
      k.calls.push(cmd);
      if (cmd === "-j -4 route get 172.16.0.2") {
        return JSON.stringify([{ dst: "172.16.0.2", dev: "eth1", prefsrc: "172.16.0.253" }]);
      }
      if (cmd === "-j -4 route get 172.16.9.9") {
        return JSON.stringify([{ dst: "172.16.9.9", gateway: "172.16.0.254", dev: "eth1" }]);
      }
      if (cmd.startsWith("-j -4 route show")) {
        return JSON.stringify([{ dst: "172.16.0.0/24", scope: "link" }]);
      }
      if (cmd.startsWith("-j -4 addr")) {
        return JSON.stringify([{ addr_info: [{ local: "172.16.0.253" }] }]);
      }
      if (cmd.startsWith("-j -4 neigh")) {
        if (k.failed) return JSON.stringify([{ dst: "172.16.0.2", state: ["FAILED"] }]);
        return JSON.stringify(
          k.resolved
            ? [{ dst: "172.16.0.2", lladdr: "02:00:00:00:00:02", state: ["REACHABLE"] }]
            : [],
        );
      }
      if (cmd === "-force -batch -") {
        k.resolved = !k.failed; // the kernel resolves what it was asked to, if it can
        return "";
      }
      throw new Error(`unexpected ip ${cmd}`);
    }) as IpRunner,
  };
  return k;
}

test("a Route server is placed on its route's interface; one behind a gateway is not on link", async () => {
  const kernel = fakeKernel();
  const sent: unknown[] = [];
  const send = {
    links: async (links: unknown, next: unknown) => void sent.push({ links, next }),
    tunnels: async () => {},
  };
  const hops = new RouteNextHops(send, {
    run: kernel.run,
    readMtu: () => 1500,
    warn: () => {},
  });
  await hops.sync([a("172.16.0.2"), a("172.16.9.9")]);
  hops.stop();
  const { links, next } = sent[0] as {
    links: { ifname: string }[];
    next: { addr: number; link: number }[];
  };
  assert.deepEqual(links.map((l) => l.ifname), ["eth1"]);
  assert.deepEqual(next.map((h) => h.link), [0, NOT_ON_LINK]);
  assert.deepEqual(hops.nextHops(), [
    { server: "172.16.0.2", ifname: "eth1", mac: "02:00:00:00:00:02", status: "RESOLVED" },
    { server: "172.16.9.9", ifname: null, mac: null, status: "not-on-link" },
  ]);
  await hops.sync([a("172.16.0.2")]);
  assert.equal(sent.length, 1, "known servers are not sent again");
});

test("the timer reads the kernel's tables at every look only while a server is unresolved", async () => {
  const kernel = fakeKernel();
  const hops = new RouteNextHops({ links: async () => {}, tunnels: async () => {} }, {
    run: kernel.run,
    readMtu: () => 1500,
    warn: () => {},
  });
  await hops.sync([a("172.16.0.2")]);
  hops.stop();
  kernel.calls = [];
  for (let i = 0; i < 30; i++) await hops.look();
  const neigh = kernel.calls.filter((c) => c.includes("neigh show")).length;
  const routes = kernel.calls.filter((c) => c.includes("route show")).length;
  assert.equal(neigh, 6, "every 5th look while resolved");
  assert.equal(routes, 1, "routes every 30th");
  kernel.failed = true;
  kernel.calls = [];
  for (let i = 0; i < 10; i++) await hops.look();
  // Seen FAILED at the next steady look (within 5), then read at every look after it.
  assert.ok(kernel.calls.filter((c) => c.includes("neigh show")).length >= 6);
  assert.equal(hops.nextHops()[0]!.status, "FAILED");
});
