// VS/TUN (DESIGN.md, research/wave2-forwarding.md §1.2-1.3, §3): the director sits on a network
// of its own; the real servers on two others, reached only through the router. The director
// puts the client's packet inside an outer IPv4 packet to the real server (IPIP to rs1, GUE to
// rs2, as lab/tun-services.yaml says); each real server decapsulates it (lab/decapsulation.ts:
// the kernel's tunl0 where it has ipip/fou, lvslab-decap where not) and answers the client
// itself, with the VIP as source, through the router:
//
//   client .2 ─ public 198.51.100.0/24 ─ .254 ┐
//   director .2 ─ dirnet 172.16.1.0/24 ── .254 ├ router (VIP/32 via 172.16.1.2)
//   rs1 .2 ────── lan2 172.16.2.0/24 ──── .254 │
//   rs2 .2 ────── lan3 172.16.3.0/24 ──── .254 ┘
//   VIP 203.0.113.5/32 on lo of the director, rs1 and rs2. Docker takes each network's .1.
//   Every link has MTU 1500: a client's full-size DF segment does not fit in the tunnel, and
//   the director answers it with fragmentation needed (1480 for IPIP, 1468 for GUE). A
//   scenario's path steps may lower lan3's MTU or reject rs2 on the router: the router's
//   ICMP about the director's tunnel packet then reaches the client through the director.
import type { Host, Topology, TunnelEndpoint } from "../topology.ts";
import { host } from "./hosts.ts";
import { DR_REALSERVER_SYSCTLS } from "./dr.ts";

const VIP = "203.0.113.5";
/** The kernel's net.ipv4.icmp_ratemask: types 3, 4, 11 and 12 are rate-limited. */
const ICMP_RATEMASK_DEFAULT = 6168;
const DIRECTOR = "172.16.1.2";
/** The GUE port of rs2 (the table's tunPort; IPVS's examples use 6080). */
export const TUN_GUE_PORT = 6080;

/**
 * A TUN real server: alone on its network behind the router, the VIP on lo with the DR
 * recipe's ARP settings (the same ARP problem where a LAN is shared) and no rp_filter on the
 * way in (the decapsulator sees to its own device), and its tunnel end.
 */
function realServer(
  name: string,
  network: string,
  address: string,
  tunnel: Omit<TunnelEndpoint, "directors" | "vips">,
  more: Partial<Host> = {},
): Host {
  const gateway = address.replace(/\.\d+$/, ".254");
  return host(name, "realserver", [[network, `${address}/24`]], {
    routes: [{ destination: "default", via: gateway }],
    loAddresses: [`${VIP}/32`],
    sysctls: DR_REALSERVER_SYSCTLS,
    tunnel: { ...tunnel, directors: [DIRECTOR], vips: [VIP] },
    // The VIP's port for the clients, the RIP's for checks (the director cannot see the VIP).
    http: { name, listen: [`${VIP}:80`, `${address}:80`] },
    ...more,
  });
}

export function tunTopology(): Topology {
  return {
    name: "tun",
    services: "tun-services.yaml",
    switchHost: "net",
    vip: VIP,
    networks: [
      { name: "public", bridge: "br-public", cidr: "198.51.100.0/24" },
      { name: "dirnet", bridge: "br-dirnet", cidr: "172.16.1.0/24" },
      { name: "lan2", bridge: "br-lan2", cidr: "172.16.2.0/24" },
      { name: "lan3", bridge: "br-lan3", cidr: "172.16.3.0/24" },
    ],
    hosts: [
      host("client", "client", [["public", "198.51.100.2/24"]], {
        routes: [{ destination: "default", via: "198.51.100.254" }],
      }),
      // The replies come in from lan2/lan3 with the VIP as source, which the router routes
      // to dirnet: no reverse-path filter.
      host("router", "router", [
        ["public", "198.51.100.254/24"],
        ["dirnet", "172.16.1.254/24"],
        ["lan2", "172.16.2.254/24"],
        ["lan3", "172.16.3.254/24"],
      ], {
        routes: [{ destination: `${VIP}/32`, via: DIRECTOR }],
        sysctls: {
          "net.ipv4.ip_forward": "1",
          // Every packet the router cannot forward gets its destination unreachable (no
          // rate limit for type 3; the kernel's default mask limits it to one per second
          // or two per sender): the path MTU and unreachable-server checks count them.
          "net.ipv4.icmp_ratemask": String(ICMP_RATEMASK_DEFAULT & ~(1 << 3)),
          ...Object.fromEntries(
            ["all", "default", "eth0", "eth1", "eth2", "eth3"].map((dev) => [
              `net.ipv4.conf.${dev}.rp_filter`,
              "0",
            ]),
          ),
        },
      }),
      host("director", "director", [["dirnet", `${DIRECTOR}/24`]], {
        routes: [{ destination: "default", via: "172.16.1.254" }],
        loAddresses: [`${VIP}/32`],
        sysctls: {
          "net.ipv4.ip_forward": "1",
          "net.ipv4.conf.all.rp_filter": "0",
          "net.ipv4.conf.eth0.rp_filter": "0",
        },
      }),
      realServer("rs1", "lan2", "172.16.2.2", { type: "ipip" }),
      realServer("rs2", "lan3", "172.16.3.2", { type: "gue", guePort: TUN_GUE_PORT }, {
        ftp: { listen: `${VIP}:21`, pasvAddress: VIP },
      }),
    ],
  };
}
