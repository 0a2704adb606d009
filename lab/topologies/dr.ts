// VS/DR (DESIGN.md's topology table), provisional copy of the lab's own (issue 14): the
// router finds the VIP by ARP on the LAN, where only the director answers for it; the real
// servers hold the VIP on lo (arp_ignore=1, arp_announce=2) and answer the client through the
// router, never through the director.
//
//   client .2 ─ public 198.51.100.0/24 ─ .254 router .254 ─ lan 172.16.0.0/24
//                                                  ├ director .253 (VIP on lo)
//                                                  ├ rs1 .2 (VIP on lo, HTTP on VIP:80)
//                                                  └ rs2 .3 (VIP on lo, HTTP on VIP:80, FTP on VIP:21)
import type { Topology } from "../topology.ts";
import { host } from "./hosts.ts";

const VIP = "203.0.113.5";
/** The real servers' ARP recipe for an address on lo (lvs.md, DESIGN.md). */
const ARP_SILENT = {
  "net.ipv4.conf.all.arp_ignore": "1",
  "net.ipv4.conf.all.arp_announce": "2",
};

export function drTopology(): Topology {
  const realServer = (name: string, address: string, ftp: boolean) =>
    host(name, "realserver", [["lan", `${address}/24`]], {
      routes: [{ destination: "default", via: "172.16.0.254" }],
      loAddresses: [`${VIP}/32`],
      sysctls: ARP_SILENT,
      http: { name, listen: [`${VIP}:80`] },
      ...(ftp ? { ftp: { listen: `${VIP}:21` } } : {}),
    });
  return {
    switchHost: "net",
    vip: VIP,
    networks: [
      { name: "public", bridge: "br-public", cidr: "198.51.100.0/24" },
      { name: "lan", bridge: "br-lan", cidr: "172.16.0.0/24" },
    ],
    hosts: [
      host("client", "client", [["public", "198.51.100.2/24"]], {
        routes: [{ destination: "default", via: "198.51.100.254" }],
      }),
      host("router", "router", [["public", "198.51.100.254/24"], ["lan", "172.16.0.254/24"]], {
        sysctls: { "net.ipv4.ip_forward": "1" },
      }),
      host("director", "director", [["lan", "172.16.0.253/24"]], {
        routes: [{ destination: "default", via: "172.16.0.254" }],
        loAddresses: [`${VIP}/32`],
      }),
      realServer("rs1", "172.16.0.2", false),
      realServer("rs2", "172.16.0.3", true),
    ],
  };
}
