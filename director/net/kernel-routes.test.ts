// The kernel's routes as VS/NAT over the links reads them: `ip -j route show` output as this
// kernel prints it (the blackhole and metric lines are copied from a real run).
import { test } from "node:test";
import assert from "node:assert/strict";
import { foreignRules, parseKernelRoutes, parseLocalRoutes, routeFor } from "./kernel-routes.ts";
import { RouteKind } from "./nat-routes.ts";
import { parseIPv4 } from "./ipv4-address.ts";

const a = (s: string) => parseIPv4(s)!;

const MAIN = JSON.stringify([
  { dst: "default", gateway: "10.9.0.9", dev: "d0", metric: 5, flags: [] },
  { dst: "default", gateway: "10.9.0.8", dev: "d0", metric: 1, flags: [] },
  { type: "blackhole", dst: "10.7.0.0/16", flags: [] },
  { dst: "10.8.0.0/16", gateway: "10.9.0.7", dev: "d0", flags: [] },
  { dst: "10.9.0.0/24", dev: "d0", protocol: "kernel", scope: "link", prefsrc: "10.9.0.1" },
  { dst: "203.0.113.5", dev: "lvs0", scope: "link", flags: [] },
  { dst: "10.6.0.0/16", nexthops: [{ gateway: "10.9.0.2", dev: "d0" }], flags: [] },
]);

test("main table: unicast routes by interface and gateway, the rest left to the kernel", () => {
  const routes = parseKernelRoutes(MAIN, "lvs0");
  const show = routes.map((r) => [r.net, r.bits, r.kind, r.dev ?? null, r.gateway ?? null]);
  // In order of metric (no metric is 0), then as listed.
  assert.deepEqual(show, [
    [a("10.7.0.0"), 16, RouteKind.KERNEL, null, null],
    [a("10.8.0.0"), 16, RouteKind.GATEWAY, "d0", a("10.9.0.7")],
    [a("10.9.0.0"), 24, RouteKind.ON_LINK, "d0", null],
    [a("203.0.113.5"), 32, RouteKind.KERNEL, null, null], // through the TUN device
    [a("10.6.0.0"), 16, RouteKind.KERNEL, null, null], // multipath
    [0, 0, RouteKind.GATEWAY, "d0", a("10.9.0.8")], // metric 1 before metric 5
    [0, 0, RouteKind.GATEWAY, "d0", a("10.9.0.9")],
  ]);
  // Longest prefix first; equal prefixes as listed (lowest metric).
  assert.equal(routeFor(a("10.9.0.44"), routes)?.kind, RouteKind.ON_LINK);
  assert.equal(routeFor(a("10.8.3.4"), routes)?.gateway, a("10.9.0.7"));
  assert.equal(routeFor(a("8.8.8.8"), routes)?.gateway, a("10.9.0.8"));
  assert.equal(routeFor(a("10.7.1.1"), routes)?.kind, RouteKind.KERNEL);
});

test("local table: the host's own and broadcast addresses stay with the kernel", () => {
  const local = JSON.stringify([
    { type: "local", dst: "10.9.0.1", dev: "d0", scope: "host", prefsrc: "10.9.0.1" },
    { type: "broadcast", dst: "10.9.0.255", dev: "d0", scope: "link", prefsrc: "10.9.0.1" },
    { type: "local", dst: "127.0.0.0/8", dev: "lo", scope: "host" },
  ]);
  assert.deepEqual(parseLocalRoutes(local), [
    { net: a("10.9.0.1"), bits: 32, kind: RouteKind.KERNEL },
    { net: a("10.9.0.255"), bits: 32, kind: RouteKind.KERNEL },
    { net: a("127.0.0.0"), bits: 8, kind: RouteKind.KERNEL },
  ]);
  assert.deepEqual(parseKernelRoutes("", "lvs0"), []);
  assert.deepEqual(parseKernelRoutes('[{"dst":"not-an-address","dev":"d0"}]', "lvs0"), []);
});

test("rules: only those looking up a table other than the standard ones and the director's", () => {
  const rules = JSON.stringify([
    { priority: 9, iif: "lo", table: "local" },
    { priority: 10, dst: "203.0.113.5", table: "100" },
    { priority: 50, src: "all", table: "local" },
    { priority: 200, src: "10.0.0.0", srcLen: 8, table: "7" },
    { priority: 32766, src: "all", table: "main" },
    { priority: 32767, src: "all", table: "default" },
  ]);
  assert.deepEqual(foreignRules(rules, ["100"]), ["priority 200 lookup 7"]);
  assert.deepEqual(foreignRules(rules, ["100", "7"]), []);
});
