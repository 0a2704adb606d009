import { test } from "node:test";
import assert from "node:assert/strict";
import { captureSegments, repliesBypassDirector } from "./segments.ts";
import { topologyNamed } from "../topologies/index.ts";
import { defaultTopology } from "../topology.ts";

test("the default lab is captured on the director's public and private interfaces and its TUN", () => {
  assert.deepEqual(captureSegments(defaultTopology()), [
    { segment: "public", host: "director", device: "eth0" },
    { segment: "private", host: "director", device: "eth1" },
    { segment: "tun", host: "director", device: "lvs0" },
  ]);
  assert.equal(captureSegments(defaultTopology(), { tunDevice: "lvs9" })[2].device, "lvs9");
});

test("a topology without a director is refused with a sentence", () => {
  const t = defaultTopology();
  t.hosts = t.hosts.filter((h) => h.role !== "director");
  assert.throws(() => captureSegments(t), /no director/);
});

test("where replies bypass the director (DR): also the router's client side and each server", () => {
  const dr = topologyNamed("dr");
  assert.equal(repliesBypassDirector(dr), true);
  assert.equal(repliesBypassDirector(defaultTopology()), false);
  assert.deepEqual(captureSegments(dr), [
    { segment: "lan", host: "director", device: "eth0" },
    { segment: "public", host: "router", device: "eth0" },
    { segment: "rs1-eth0", host: "rs1", device: "eth0" },
    { segment: "rs2-eth0", host: "rs2", device: "eth0" },
    { segment: "tun", host: "director", device: "lvs0" },
  ]);
});
