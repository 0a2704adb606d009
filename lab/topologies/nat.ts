// VS/NAT, the LVS article's example and the default lab (DESIGN.md):
//   client 198.51.100.2 ─ public ─ .254 director 172.16.0.254 ─ private ─ rs1 .2, rs2 .3
// The real servers' default route points at the director, which rewrites both directions.
import type { Topology } from "../topology.ts";
import { host, QUIET_IPV6 } from "./hosts.ts";

/** The LVS article's VS/NAT example mapped onto documentation addresses (DESIGN.md). */
export function defaultTopology(): Topology {
  return {
    name: "nat",
    switchHost: "net",
    vip: "203.0.113.5",
    networks: [
      { name: "public", bridge: "br-public", cidr: "198.51.100.0/24" },
      { name: "private", bridge: "br-private", cidr: "172.16.0.0/24" },
    ],
    hosts: [
      host("client", "client", [["public", "198.51.100.2/24"]], {
        routes: [{ destination: "default", via: "198.51.100.254" }],
      }),
      {
        name: "director",
        role: "director",
        interfaces: [
          { name: "eth0", network: "public", address: "198.51.100.254/24", switchPort: "dir-eth0" },
          { name: "eth1", network: "private", address: "172.16.0.254/24", switchPort: "dir-eth1" },
        ],
        routes: [],
        sysctls: { ...QUIET_IPV6, "net.ipv4.ip_forward": "1" },
      },
      host("rs1", "realserver", [["private", "172.16.0.2/24"]], {
        routes: [{ destination: "default", via: "172.16.0.254" }],
        http: { name: "rs1", listen: ["172.16.0.2:80"] },
      }),
      host("rs2", "realserver", [["private", "172.16.0.3/24"]], {
        routes: [{ destination: "default", via: "172.16.0.254" }],
        // Only :8000, so a director that forgets to rewrite the port gets refused, not served.
        http: { name: "rs2", listen: ["172.16.0.3:8000"] },
        ftp: { listen: "172.16.0.3:21" },
      }),
    ],
  };
}
