// A router between four networks, with a host on each: the shape the DR and TUN labs grow
// from (a client network, a public LAN and private networks behind one router). No director:
// it proves that any topology comes up on every backend and that everything reaches
// everything across the router (test/lab/topology-lab.test.ts).
//
//   client .2 ─ clients 198.51.100.0/24 ─ .254 ┐
//   web .10 ─── public 203.0.113.0/24 ──── .254 ├ router (ip_forward)
//   rs1 .2 ──── lan1 172.16.1.0/24 ─────── .254 │
//   rs2 .2 ──── lan2 172.16.2.0/24 ─────── .254 ┘   rs2 also holds 172.16.2.100 on lo
import type { Topology } from "../topology.ts";
import { host } from "./hosts.ts";

export function routedTopology(): Topology {
  return {
    name: "routed",
    switchHost: "net",
    vip: "203.0.113.5",
    networks: [
      { name: "clients", bridge: "br-clients", cidr: "198.51.100.0/24" },
      { name: "public", bridge: "br-public", cidr: "203.0.113.0/24" },
      { name: "lan1", bridge: "br-lan1", cidr: "172.16.1.0/24" },
      { name: "lan2", bridge: "br-lan2", cidr: "172.16.2.0/24" },
    ],
    hosts: [
      host("client", "client", [["clients", "198.51.100.2/24"]], {
        routes: [{ destination: "default", via: "198.51.100.254" }],
      }),
      host("router", "router", [
        ["clients", "198.51.100.254/24"],
        ["public", "203.0.113.254/24"],
        ["lan1", "172.16.1.254/24"],
        ["lan2", "172.16.2.254/24"],
      ], {
        routes: [{ destination: "172.16.2.100/32", via: "172.16.2.2" }],
        sysctls: { "net.ipv4.ip_forward": "1" },
      }),
      // No default route: one route per network it talks to.
      host("web", "realserver", [["public", "203.0.113.10/24"]], {
        routes: ["198.51.100.0/24", "172.16.1.0/24", "172.16.2.0/24"].map((destination) => ({
          destination,
          via: "203.0.113.254",
        })),
        http: { name: "web", listen: ["203.0.113.10:80"] },
      }),
      host("rs1", "realserver", [["lan1", "172.16.1.2/24"]], {
        routes: [{ destination: "default", via: "172.16.1.254" }],
        http: { name: "rs1", listen: ["172.16.1.2:80"] },
      }),
      // An address on lo, answered for by ARP only on lo's own terms (the DR recipe's sysctls).
      host("rs2", "realserver", [["lan2", "172.16.2.2/24"]], {
        routes: [{ destination: "default", via: "172.16.2.254" }],
        loAddresses: ["172.16.2.100/32"],
        sysctls: { "net.ipv4.conf.all.arp_ignore": "1", "net.ipv4.conf.all.arp_announce": "2" },
        http: { name: "rs2", listen: ["172.16.2.2:80", "172.16.2.100:80"] },
      }),
    ],
  };
}
