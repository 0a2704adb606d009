// VS/DR (DESIGN.md, research/wave2-forwarding.md §3): the router finds the VIP by ARP on one
// LAN shared by the director and the real servers; only the director answers for it. The
// director sends the client's packet, unchanged, in a frame to a real server's MAC; the real
// server holds the VIP on lo and answers the client itself, through the router:
//
//   client .2 ─ public 198.51.100.0/24 ─ .254 router .254 ─ lan 172.16.0.0/24 ─┬ director .253
//                                              (VIP/32 dev eth1: ARP on the lan)  ├ rs1 .2
//                                                                                └ rs2 .3
//   VIP 203.0.113.5/32 on lo of the director, rs1 and rs2. Docker takes 172.16.0.1.
import type { Host, Topology } from "../topology.ts";
import { host } from "./hosts.ts";

const VIP = "203.0.113.5";
const ROUTER_LAN = "172.16.0.254";

/**
 * The ARP half of the LVS-DR real-server recipe, per device: answer ARP only for addresses
 * of the device asked on (not the VIP on lo), announce only the device's own address.
 */
export const ARP_RECIPE = { arp_ignore: "1", arp_announce: "2" } as const;

/** The recipe's settings on `all` and each device ("MAX is used"). */
export function arpRecipeSysctls(
  values: Record<keyof typeof ARP_RECIPE, string>,
  devices: string[],
): Record<string, string> {
  return Object.fromEntries(
    ["all", ...devices].flatMap((dev) =>
      Object.entries(values).map(([key, value]) => [`net.ipv4.conf.${dev}.${key}`, value])
    ),
  );
}

/**
 * The LVS-DR real-server recipe: the VIP on lo, never announced nor answered for by ARP,
 * no reverse-path filter on the replies' way.
 */
export const DR_REALSERVER_SYSCTLS: Record<string, string> = {
  ...arpRecipeSysctls(ARP_RECIPE, ["eth0"]),
  "net.ipv4.conf.all.rp_filter": "0",
  "net.ipv4.conf.eth0.rp_filter": "0",
};

/** A DR real server: on the LAN, the VIP on lo, replies straight to the router. */
function realServer(name: string, address: string, more: Partial<Host> = {}): Host {
  return host(name, "realserver", [["lan", `${address}/24`]], {
    routes: [{ destination: "default", via: ROUTER_LAN }],
    loAddresses: [`${VIP}/32`],
    sysctls: DR_REALSERVER_SYSCTLS,
    // DR cannot change ports: the VIP's port, and the RIP's for checks from the LAN.
    http: { name, listen: [`${VIP}:80`, `${address}:80`] },
    ...more,
  });
}

export function drTopology(): Topology {
  return {
    name: "dr",
    services: "dr-services.yaml",
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
      host("router", "router", [["public", "198.51.100.254/24"], ["lan", `${ROUTER_LAN}/24`]], {
        routes: [{ destination: `${VIP}/32`, dev: "eth1" }],
        sysctls: { "net.ipv4.ip_forward": "1" },
      }),
      // The client's packets arrive on the LAN with the client's source: no rp_filter.
      host("director", "director", [["lan", "172.16.0.253/24"]], {
        routes: [{ destination: "default", via: ROUTER_LAN }],
        loAddresses: [`${VIP}/32`],
        sysctls: {
          "net.ipv4.ip_forward": "1",
          "net.ipv4.conf.all.rp_filter": "0",
          "net.ipv4.conf.eth0.rp_filter": "0",
        },
      }),
      realServer("rs1", "172.16.0.2"),
      realServer("rs2", "172.16.0.3", { ftp: { listen: `${VIP}:21`, pasvAddress: VIP } }),
    ],
  };
}
