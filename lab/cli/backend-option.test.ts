import { test } from "node:test";
import assert from "node:assert/strict";
import { describeTopology, labBackend, labFlags, selectedTopology } from "./backend-option.ts";
import { METHOD_TOPOLOGIES, methodOf, TOPOLOGIES } from "../topologies/index.ts";

test("--backend accepts netns and compose and refuses anything else with a sentence", () => {
  assert.equal(labBackend({ backend: "netns", name: "lvslab" }).kind, "netns");
  assert.equal(labBackend({ backend: "compose", name: "lvslab" }).kind, "compose");
  assert.throws(
    () => labBackend({ backend: "docker", name: "lvslab" }),
    /backend 'docker' is unknown; use one of netns, compose/,
  );
});

test("a hint names the lab again only where it is not the default", () => {
  assert.equal(labFlags(labBackend({ backend: "netns", name: "lvslab" })), "");
  assert.equal(labFlags(labBackend({ backend: "netns", name: "lab2" })), " --name lab2");
  assert.equal(labFlags(labBackend({ backend: "compose", name: "lvslab" })), " --backend compose");
});

test("--method selects the lab of a forwarding method; with --topology they must agree", () => {
  assert.equal(selectedTopology({}), "nat");
  assert.equal(selectedTopology({ method: "nat" }), "nat");
  assert.equal(selectedTopology({ method: "dr" }), "dr");
  assert.equal(selectedTopology({ topology: "routed" }), "routed");
  assert.equal(selectedTopology({ method: "dr", topology: "dr" }), "dr");
  assert.throws(
    () => selectedTopology({ method: "dr", topology: "nat" }),
    /--method dr is the topology 'dr', but the topology given \(--topology or LVSLAB_TOPOLOGY\) is 'nat'; give only one of them/,
  );
  assert.equal(selectedTopology({ method: "tun" }), "tun");
  assert.equal(describeTopology("tun"), "topology tun (method tun)");
  assert.throws(
    () => selectedTopology({ method: "masq" }),
    /method 'masq' has no lab; use one of nat, dr, tun/,
  );
  const backend = labBackend({ backend: "netns", name: "lvslab", method: "dr" });
  assert.equal((backend as unknown as { topology: { name: string } }).topology.name, "dr");
  assert.equal(labFlags(backend, "dr"), " --method dr");
  assert.equal(labFlags(backend, "routed"), " --topology routed");
  assert.equal(describeTopology("dr"), "topology dr (method dr)");
  assert.equal(describeTopology("routed"), "topology routed");
});

test("every forwarding method's lab is a registered topology", () => {
  for (const [method, topology] of Object.entries(METHOD_TOPOLOGIES)) {
    assert.ok(Object.hasOwn(TOPOLOGIES, topology), `${method} → ${topology}`);
    assert.equal(methodOf(topology), method);
  }
});
