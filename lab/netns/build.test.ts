import { test } from "node:test";
import assert from "node:assert/strict";
import { routeArgs } from "./build.ts";
import { drTopology } from "../topologies/dr.ts";
import { findHost } from "../topology.ts";

test("routes become `ip route add` through a next hop or on-link out of a device", () => {
  const topo = drTopology();
  assert.deepEqual(findHost(topo, "router").routes.map(routeArgs), [
    ["route", "add", "203.0.113.5/32", "dev", "eth1"],
  ]);
  assert.deepEqual(findHost(topo, "rs1").routes.map(routeArgs), [
    ["route", "add", "default", "via", "172.16.0.254"],
  ]);
});
