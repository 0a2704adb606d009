import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_TOPOLOGY, TOPOLOGIES, topologyNamed } from "./index.ts";
import {
  defaultTopology,
  directorPrivateInterface,
  findHost,
  type Route,
  type Topology,
  validateTopology,
} from "../topology.ts";
import { routedTopology } from "./routed.ts";
import { DR_REALSERVER_SYSCTLS, drTopology } from "./dr.ts";
import { tunTopology } from "./tun.ts";
import { directorLanInterface } from "../topology.ts";
import { readyLines } from "../programs.ts";
import { READY_LINES } from "../../director/ready-lines.ts";

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
    /topology 'mesh' is unknown; use one of nat, dr, tun, routed/,
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

test("the DR topology: one LAN for router, director and real servers; the VIP on lo", () => {
  const topo = drTopology();
  assert.equal(topo.name, "dr");
  assert.equal(topo.services, "dr-services.yaml");
  const router = findHost(topo, "router");
  assert.deepEqual(router.interfaces.map((i) => [i.network, i.address]), [
    ["public", "198.51.100.254/24"],
    ["lan", "172.16.0.254/24"],
  ]);
  // The router finds the VIP by ARP on the LAN (its eth1).
  assert.deepEqual(router.routes, [{ destination: "203.0.113.5/32", dev: "eth1" }]);
  assert.equal(router.sysctls["net.ipv4.ip_forward"], "1");
  const director = findHost(topo, "director");
  assert.deepEqual(director.interfaces.map((i) => i.address), ["172.16.0.253/24"]);
  assert.deepEqual(director.loAddresses, ["203.0.113.5/32"]);
  assert.deepEqual(director.routes, [{ destination: "default", via: "172.16.0.254" }]);
  assert.equal(director.sysctls["net.ipv4.conf.all.rp_filter"], "0");
  for (const [name, rip] of [["rs1", "172.16.0.2"], ["rs2", "172.16.0.3"]]) {
    const rs = findHost(topo, name);
    assert.deepEqual(rs.interfaces.map((i) => [i.network, i.address]), [["lan", `${rip}/24`]]);
    assert.deepEqual(rs.loAddresses, ["203.0.113.5/32"]);
    assert.deepEqual(rs.routes, [{ destination: "default", via: "172.16.0.254" }]);
    for (const [key, value] of Object.entries(DR_REALSERVER_SYSCTLS)) {
      assert.equal(rs.sysctls[key], value, `${name} ${key}`);
    }
    assert.deepEqual(rs.http?.listen, ["203.0.113.5:80", `${rip}:80`]);
  }
  assert.deepEqual(findHost(topo, "rs2").ftp, {
    listen: "203.0.113.5:21",
    pasvAddress: "203.0.113.5",
  });
  assert.equal(directorPrivateInterface(topo).name, "eth0");
});

test("on-link routes name one of the host's devices and no next hop", () => {
  const withRoute = (route: Route) => {
    const topo = drTopology();
    findHost(topo, "router").routes = [route];
    return validateTopology(topo).join("\n");
  };
  assert.equal(withRoute({ destination: "203.0.113.5/32", dev: "eth1" }), "");
  assert.match(
    withRoute({ destination: "203.0.113.5/32", dev: "eth7" }),
    /host 'router': on-link route to 203\.0\.113\.5\/32 names device 'eth7'; give one of the host's interfaces \(eth0, eth1\) and no via/,
  );
  assert.match(
    withRoute({ destination: "default", dev: "eth1" }),
    /host 'router': the default route needs a next hop \(via\), not a device/,
  );
});

test("the TUN topology: director and real servers on networks of their own, a tunnel each", () => {
  const topo = tunTopology();
  assert.equal(topo.services, "tun-services.yaml");
  const router = findHost(topo, "router");
  assert.deepEqual(router.interfaces.map((i) => [i.network, i.address]), [
    ["public", "198.51.100.254/24"],
    ["dirnet", "172.16.1.254/24"],
    ["lan2", "172.16.2.254/24"],
    ["lan3", "172.16.3.254/24"],
  ]);
  assert.deepEqual(router.routes, [{ destination: "203.0.113.5/32", via: "172.16.1.2" }]);
  // Replies from the VIP come in on lan2/lan3 while the VIP is routed to dirnet.
  assert.equal(router.sysctls["net.ipv4.conf.all.rp_filter"], "0");
  const director = findHost(topo, "director");
  assert.deepEqual(director.interfaces.map((i) => i.address), ["172.16.1.2/24"]);
  assert.deepEqual(director.loAddresses, ["203.0.113.5/32"]);
  assert.equal(directorLanInterface(topo), null, "no --private-dev: no replies come back");
  assert.throws(() => directorPrivateInterface(topo), /no interface on network 'lan2'/);
  for (
    const [name, net, rip, type] of [
      ["rs1", "lan2", "172.16.2.2", "ipip,gre"],
      ["rs2", "lan3", "172.16.3.2", "gue,gre"],
    ]
  ) {
    const rs = findHost(topo, name);
    assert.deepEqual(rs.interfaces.map((i) => [i.network, i.address]), [[net, `${rip}/24`]]);
    assert.deepEqual(rs.routes, [{ destination: "default", via: rip.replace(/2$/, "254") }]);
    assert.deepEqual(rs.loAddresses, ["203.0.113.5/32"]);
    for (const [key, value] of Object.entries(DR_REALSERVER_SYSCTLS)) {
      assert.equal(rs.sysctls[key], value, `${name} ${key}`);
    }
    assert.equal(rs.tunnel?.types.join(","), type);
    assert.deepEqual(rs.http?.listen, ["203.0.113.5:80", "203.0.113.5:8080", `${rip}:80`]);
    assert.deepEqual(rs.tunnel?.directors, ["172.16.1.2"]);
  }
  assert.equal(findHost(topo, "rs2").tunnel?.guePort, 6080);
  assert.equal(findHost(topo, "rs2").ftp?.pasvAddress, "203.0.113.5");
  const ready = readyLines(topo, true);
  assert.ok(ready.rs1.includes(READY_LINES.decapsulator));
  assert.ok(ready.rs2.includes(READY_LINES.decapsulator));
});

test("tunnel ends are validated: type, directors, the GUE port", () => {
  const withTunnel = (change: (t: Topology) => void) => {
    const topo = tunTopology();
    change(topo);
    return validateTopology(topo).join("\n");
  };
  const rs = (t: Topology, name: string) => findHost(t, name).tunnel!;
  assert.match(
    withTunnel((t) => delete rs(t, "rs2").guePort),
    /host 'rs2' tunnel: a GUE tunnel needs guePort, the others take none/,
  );
  assert.match(
    withTunnel((t) => (rs(t, "rs1").guePort = 6080)),
    /host 'rs1' tunnel: a GUE tunnel needs guePort/,
  );
  assert.match(
    withTunnel((t) => (rs(t, "rs1").directors = ["8.8.8.8"])),
    /host 'rs1' tunnel: '8\.8\.8\.8' is not an address in/,
  );
  assert.match(
    withTunnel((t) => ((rs(t, "rs1").types as string[]).push("vxlan"))),
    /host 'rs1' tunnel: type 'vxlan' is not one of ipip, gue, gre/,
  );
  assert.match(
    withTunnel((t) => rs(t, "rs1").types.push("gre")),
    /host 'rs1' tunnel: types ipip, gre, gre name one twice/,
  );
  assert.match(
    withTunnel((t) => (rs(t, "rs1").types = [])),
    /host 'rs1' tunnel: name its types/,
  );
});
