import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_TOPOLOGY, TOPOLOGIES, topologyNamed } from "./index.ts";
import { defaultTopology, findHost, type Topology, validateTopology } from "../topology.ts";
import { routedTopology } from "./routed.ts";

function problems(change: (t: Topology) => void): string {
  const topo = routedTopology();
  change(topo);
  return validateTopology(topo).join("\n");
}

test("every registered topology is sound; the default is the article's lab", () => {
  for (const name of Object.keys(TOPOLOGIES)) {
    assert.deepEqual(validateTopology(topologyNamed(name)), [], name);
  }
  assert.deepEqual(topologyNamed(DEFAULT_TOPOLOGY), defaultTopology());
  assert.throws(
    () => topologyNamed("mesh"),
    /topology 'mesh' is unknown; use one of nat, dr, routed/,
  );
});

test("the routed topology: a router on four networks, a host on each", () => {
  const topo = routedTopology();
  const router = findHost(topo, "router");
  assert.equal(router.role, "router");
  assert.equal(router.sysctls["net.ipv4.ip_forward"], "1");
  assert.deepEqual(router.interfaces.map((i) => i.network), topo.networks.map((n) => n.name));
  for (const net of topo.networks) {
    const others = topo.hosts.filter((h) =>
      h !== router && h.interfaces.some((i) => i.network === net.name)
    );
    assert.equal(others.length, 1, net.name);
  }
  assert.deepEqual(findHost(topo, "rs2").loAddresses, ["172.16.2.100/32"]);
});

test("validation says in sentences what is wrong with any shape", () => {
  assert.match(
    problems((t) => (findHost(t, "rs1").interfaces[0].network = "lan9")),
    /host 'rs1' eth0: network 'lan9' is not one of the topology's networks \(clients, public, lan1, lan2\)/,
  );
  assert.match(
    problems((t) => (t.networks[2].cidr = "10.1.0.0/24")),
    /network 'lan1': 10\.1\.0\.0\/24 is outside the lab's address plan: use 198\.51\.100\.0\/24/,
  );
  assert.match(
    problems((t) => (t.networks[0].cidr = "192.0.2.0/24")),
    /network 'clients': 192\.0\.2\.0\/24 is outside the lab's address plan/,
  );
  assert.match(
    problems((t) => (findHost(t, "rs2").interfaces[0].address = "172.16.1.2/24")),
    /172\.16\.1\.2\/24 does not belong to network lan2/,
  );
  assert.match(
    problems((t) => (findHost(t, "web").interfaces[0].address = "203.0.113.254/24")),
    /host 'web' eth0: 203\.0\.113\.254\/24 is used twice \(host 'router' eth1 has it too\)/,
  );
  assert.match(
    problems((t) => (findHost(t, "rs1").name = "realserverone")),
    /host 'realserverone': name must be 1-12 lower-case letters/,
  );
  assert.match(
    problems((t) => (t.networks[1].bridge = "br-public-network")),
    /bridge name 'br-public-network' is longer than 15 chars/,
  );
  assert.match(
    problems((t) => delete findHost(t, "router").sysctls["net.ipv4.ip_forward"]),
    /host 'router': a router needs net\.ipv4\.ip_forward = 1/,
  );
  assert.match(
    problems((t) => (findHost(t, "rs2").sysctls["kernel.pid_max"] = "1")),
    /sysctl 'kernel\.pid_max' is not a network setting/,
  );
  assert.match(
    problems((t) => (findHost(t, "rs2").loAddresses = ["8.8.8.8/32"])),
    /host 'rs2' lo: '8\.8\.8\.8\/32' is not an address with prefix in/,
  );
  assert.match(
    problems((t) => (findHost(t, "web").routes[0].destination = "10.0.0.0/8")),
    /host 'web': route destination '10\.0\.0\.0\/8' is not a prefix in/,
  );
  assert.match(
    problems((t) => ((findHost(t, "client") as { role: string }).role = "switch")),
    /role 'switch' is not one of client, router, director, realserver/,
  );
  assert.match(
    problems((t) => (t.networks[3].cidr = "172.16.2.7/24")),
    /network 'lan2': 172\.16\.2\.7\/24 has host bits set/,
  );
});
