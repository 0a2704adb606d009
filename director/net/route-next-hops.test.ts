// Where DR frames go, decided off the packet path: the route names the interface, the
// neighbour cache the MAC; the worker is told once per server; the timer reads the kernel's
// tables (a process each time) every look only while a server is unresolved.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RouteNextHops } from "./route-next-hops.ts";
import type { IpRunner } from "./neighbour.ts";
import { NOT_ON_LINK } from "./link-table.ts";
import { parseIPv4 } from "./ipv4-address.ts";
import { RouteKind } from "./nat-routes.ts";

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
    natRoutes: async () => {},
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
  const noSend = { links: async () => {}, tunnels: async () => {}, natRoutes: async () => {} };
  const hops = new RouteNextHops(noSend, {
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

/** The NAT lab's director as `ip` shows it: clients on eth0, servers on eth1, one gateway. */
function natKernel(rules: object[] = []) {
  const resolved = new Set<string>();
  const k = {
    calls: [] as string[],
    run: (async (args, input) => {
      const cmd = args.join(" ");
      k.calls.push(cmd);
      if (cmd === "-j -4 route show table main") {
        return JSON.stringify([
          { dst: "default", gateway: "198.51.100.1", dev: "eth0" },
          { dst: "198.51.100.0/24", dev: "eth0", scope: "link" },
          { dst: "172.16.0.0/24", dev: "eth1", scope: "link" },
          { dst: "203.0.113.5", dev: "lvs0", scope: "link" },
        ]);
      }
      if (cmd === "-j -4 route show table local") {
        return JSON.stringify([{ type: "local", dst: "198.51.100.254", dev: "eth0" }]);
      }
      if (cmd === "-j -4 rule show") {
        return JSON.stringify([
          { priority: 0, table: "local" },
          { priority: 100, table: "100" },
          ...rules,
        ]);
      }
      const dev = args.at(-1);
      if (cmd.startsWith("-j -4 route show table main dev")) {
        return JSON.stringify([{
          dst: dev === "eth0" ? "198.51.100.0/24" : "172.16.0.0/24",
          scope: "link",
        }]);
      }
      if (cmd.startsWith("-j -4 addr")) {
        const own = dev === "eth0" ? "198.51.100.254" : "172.16.0.254";
        return JSON.stringify([{ addr_info: [{ local: own }] }]);
      }
      if (cmd.startsWith("-j -4 neigh")) {
        // The client's ARP request made the kernel learn it; the rest once asked.
        const known = dev === "eth0"
          ? [{ dst: "198.51.100.2", lladdr: "02:00:00:00:01:02", state: ["STALE"] }]
          : [];
        for (const addr of resolved) {
          if (addr.startsWith(dev === "eth0" ? "198." : "172.")) {
            known.push({ dst: addr, lladdr: "02:00:00:00:00:09", state: ["REACHABLE"] });
          }
        }
        return JSON.stringify(known);
      }
      if (cmd === "-force -batch -") {
        for (const line of input!.trim().split("\n")) resolved.add(line.split(" ")[2]!);
        return "";
      }
      throw new Error(`unexpected ip ${cmd}`);
    }) as IpRunner,
  };
  return k;
}

function natSender() {
  const sent = {
    links: [] as { ifname: string; index: number }[],
    hops: [] as { addr: number; link: number }[],
    routes: [] as { net: number; bits: number; kind: number; link: number; gateway: number }[][],
  };
  const send = {
    links: async (links: { ifname: string; index: number }[], hops: typeof sent.hops) => {
      sent.links.push(...links);
      sent.hops.push(...hops);
    },
    tunnels: async () => {},
    natRoutes: async (routes: (typeof sent.routes)[number]) => void sent.routes.push(routes),
  };
  return { sent, send };
}

test("NAT routes: a link per interface, next hops for the gateway, the servers and the kernel's neighbours", async () => {
  const kernel = natKernel();
  const { sent, send } = natSender();
  const hops = new RouteNextHops(send, { run: kernel.run, readMtu: () => 1500, warn: () => {} });
  await hops.followNatRoutes({ tunName: "lvs0", tables: ["100"] });
  await hops.sync([], [], [a("172.16.0.2")]);
  hops.stop();
  // Nothing waits for MACs; the next look adopts the kernel's neighbours.
  await hops.look();
  assert.deepEqual(sent.links.map((l) => [l.ifname, l.index]), [["eth0", 0], ["eth1", 1]]);
  const routes = sent.routes.at(-1)!;
  assert.deepEqual(routes.map((r) => [r.bits, r.kind, r.link]), [
    [32, RouteKind.KERNEL, -1], // the director's own address (local table)
    [0, RouteKind.GATEWAY, 0],
    [24, RouteKind.ON_LINK, 0],
    [24, RouteKind.ON_LINK, 1],
    [32, RouteKind.KERNEL, -1], // the VIP through the TUN device
  ]);
  assert.equal(routes[1]!.gateway, a("198.51.100.1"));
  const placed = new Map(sent.hops.map((h) => [h.addr, h.link]));
  assert.equal(placed.get(a("198.51.100.1")), 0, "the gateway");
  assert.equal(placed.get(a("198.51.100.2")), 0, "the client the kernel knows");
  assert.equal(placed.get(a("172.16.0.2")), 1, "the NAT server");
  assert.equal(sent.hops.length, placed.size, "each next hop sent once");
  // Unchanged routes are not sent again.
  const before = sent.routes.length;
  for (let i = 0; i < 5; i++) await hops.look();
  assert.equal(sent.routes.length, before);
});

test("NAT routes: a foreign policy rule leaves every NAT packet to the kernel, with a warning", async () => {
  const kernel = natKernel([{ priority: 200, src: "10.0.0.0", table: "7" }]);
  const { sent, send } = natSender();
  const warnings: string[] = [];
  const hops = new RouteNextHops(send, {
    run: kernel.run,
    readMtu: () => 1500,
    warn: (m) => warnings.push(m),
  });
  await hops.followNatRoutes({ tunName: "lvs0", tables: ["100"] });
  hops.stop();
  assert.deepEqual(sent.routes, [[]]);
  assert.match(warnings.join("\n"), /priority 200 lookup 7/);
});
