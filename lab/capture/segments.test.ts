import { test } from "node:test";
import assert from "node:assert/strict";
import { captureSegments } from "./segments.ts";
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
