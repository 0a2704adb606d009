import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkLabName,
  defaultTopology,
  directorPrivateInterface,
  findHost,
  labNamespaces,
  parseCidr,
  validateTopology,
} from "./topology.ts";

test("the default topology is the article's lab and is sound", () => {
  const topo = defaultTopology();
  assert.deepEqual(validateTopology(topo), []);
  assert.equal(topo.vip, "203.0.113.5");
  assert.equal(findHost(topo, "client").interfaces[0].address, "198.51.100.2/24");
  assert.deepEqual(findHost(topo, "client").routes, [
    { destination: "default", via: "198.51.100.254" },
  ]);
  const director = findHost(topo, "director");
  assert.deepEqual(director.interfaces.map((i) => i.address), [
    "198.51.100.254/24",
    "172.16.0.254/24",
  ]);
  assert.equal(director.sysctls["net.ipv4.ip_forward"], "1");
  assert.equal(findHost(topo, "rs1").interfaces[0].address, "172.16.0.2/24");
  assert.equal(findHost(topo, "rs2").interfaces[0].address, "172.16.0.3/24");
  assert.deepEqual(findHost(topo, "rs2").http?.listen, ["172.16.0.3:8000"]);
  // No host holds the VIP: the director routes it into its TUN device.
  for (const host of topo.hosts) {
    for (const iface of host.interfaces) assert.ok(!iface.address.startsWith(topo.vip + "/"));
  }
});

test("namespace names carry the lab name", () => {
  assert.deepEqual(labNamespaces("lvst", defaultTopology()), [
    "lvst-net",
    "lvst-client",
    "lvst-director",
    "lvst-rs1",
    "lvst-rs2",
  ]);
});

test("the director's private interface is the one facing the real servers", () => {
  assert.equal(directorPrivateInterface(defaultTopology()).name, "eth1");
});

test("lab names are checked", () => {
  checkLabName("lvslab");
  checkLabName("lvst2");
  for (const bad of ["", "Lvs", "lvs-x", "1lab", "a".repeat(17), "lab/x"]) {
    assert.throws(() => checkLabName(bad), /not valid/, bad);
  }
});

test("findHost names the hosts there are", () => {
  assert.throws(() => findHost(defaultTopology(), "rs9"), /hosts are: client, director, rs1, rs2/);
});

test("parseCidr", () => {
  assert.deepEqual(parseCidr("172.16.0.0/24"), { addr: 0xac100000, bits: 24 });
  assert.equal(parseCidr("172.16.0.0"), null);
  assert.equal(parseCidr("172.16.0.0/33"), null);
  assert.equal(parseCidr("300.1.1.1/24"), null);
});

test("validation finds unsafe or inconsistent topologies", () => {
  const outside = defaultTopology();
  outside.networks[0].cidr = "8.8.8.0/24";
  assert.match(validateTopology(outside).join("\n"), /network 'public': 8\.8\.8\.0\/24 is outside/);

  const wrongNet = defaultTopology();
  findHost(wrongNet, "rs1").interfaces[0].address = "198.51.100.9/24";
  assert.match(validateTopology(wrongNet).join("\n"), /does not belong to network private/);

  const dupAddr = defaultTopology();
  findHost(dupAddr, "rs2").interfaces[0].address = "172.16.0.2/24";
  assert.match(validateTopology(dupAddr).join("\n"), /172\.16\.0\.2\/24 is used twice/);

  const longPort = defaultTopology();
  findHost(longPort, "rs1").interfaces[0].switchPort = "realserver1-eth0";
  assert.match(validateTopology(longPort).join("\n"), /at most 15 characters/);

  const dupPort = defaultTopology();
  findHost(dupPort, "rs2").interfaces[0].switchPort = "rs1-eth0";
  assert.match(validateTopology(dupPort).join("\n"), /switch port 'rs1-eth0' is used twice/);

  const badRoute = defaultTopology();
  findHost(badRoute, "client").routes[0].via = "172.16.0.254";
  assert.match(validateTopology(badRoute).join("\n"), /route via 172\.16\.0\.254 is not on/);

  const badVip = defaultTopology();
  badVip.vip = "1.2.3.4";
  assert.match(validateTopology(badVip).join("\n"), /VIP '1\.2\.3\.4'/);

  const clash = defaultTopology();
  clash.hosts[1].name = "net";
  assert.match(validateTopology(clash).join("\n"), /host 'net': the name is used twice/);
});
