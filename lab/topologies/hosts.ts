// Small builders the topology files share, so each file reads as its drawing: a host from
// its name, role and (network, address) pairs, with the switch ports named after it.
import type { Host, HostInterface, HostRole } from "../topology.ts";

// Quiet segments: no IPv6 autoconfiguration or MLD chatter in captures.
export const QUIET_IPV6: Record<string, string> = {
  "net.ipv6.conf.all.disable_ipv6": "1",
  "net.ipv6.conf.default.disable_ipv6": "1",
};

/** Interfaces eth0, eth1, ... in order, their switch ports `<host>-ethN`. */
export function interfaces(host: string, plugs: [network: string, address: string][]) {
  return plugs.map(([network, address], i): HostInterface => ({
    name: `eth${i}`,
    network,
    address,
    switchPort: `${host}-eth${i}`,
  }));
}

/** A host with quiet IPv6 and the given interfaces; `more` adds routes, programs, settings. */
export function host(
  name: string,
  role: HostRole,
  plugs: [network: string, address: string][],
  more: Partial<Omit<Host, "name" | "role" | "interfaces">> = {},
): Host {
  return {
    name,
    role,
    interfaces: interfaces(name, plugs),
    routes: more.routes ?? [],
    ...more,
    sysctls: { ...QUIET_IPV6, ...more.sysctls },
  };
}
