// Realises any Topology as network namespaces: one namespace per host plus one holding the
// bridges (one per network). Every veth is created inside the switch namespace with its peer
// moved straight into the host's namespace, so nothing ever appears in the root namespace,
// even briefly. Then each host's addresses (also on lo), routes and kernel settings.
import { ip } from "./command.ts";
import { addNamespace, setSysctls } from "./namespaces.ts";
import { namespaceName, type Route, type Topology } from "../topology.ts";
import type { LabState } from "../state.ts";
import { QUIET_IPV6 } from "../topologies/hosts.ts";

export type BuiltNetwork = Pick<LabState, "namespaces" | "bridges" | "veths">;

/**
 * Builds the lab's networks. On failure what was built so far is reported through `built`
 * (filled as it goes) so the caller can remove exactly that.
 */
export function buildTopology(
  labName: string,
  topology: Topology,
  built: BuiltNetwork = { namespaces: [], bridges: [], veths: [] },
): BuiltNetwork {
  const switchNs = namespaceName(labName, topology.switchHost);
  addNamespace(switchNs);
  built.namespaces.push(switchNs);
  // The switch namespace only bridges frames; keep it silent on IPv6 as well.
  setSysctls(switchNs, QUIET_IPV6);
  for (const net of topology.networks) {
    // forward_delay 0 and no STP: ports forward as soon as they are up.
    ip(
      ["link", "add", net.bridge, "type", "bridge", "forward_delay", "0", "stp_state", "0"],
      switchNs,
    );
    ip(["link", "set", net.bridge, "up"], switchNs);
    built.bridges.push({ namespace: switchNs, name: net.bridge });
  }
  const bridgeOf = new Map(topology.networks.map((n) => [n.name, n.bridge]));

  for (const host of topology.hosts) {
    const ns = namespaceName(labName, host.name);
    addNamespace(ns);
    built.namespaces.push(ns);
    // Settings of one device wait for it; the rest (conf.default too) apply to what follows.
    const [early, late] = splitDeviceSettings(host.sysctls, host.interfaces.map((i) => i.name));
    setSysctls(ns, early);
    for (const iface of host.interfaces) {
      ip(
        ["link", "add", iface.switchPort, "type", "veth", "peer", "name", iface.name, "netns", ns],
        switchNs,
      );
      built.veths.push({
        namespace: switchNs,
        name: iface.switchPort,
        peerNamespace: ns,
        peerName: iface.name,
      });
      ip(["link", "set", iface.switchPort, "master", bridgeOf.get(iface.network)!, "up"], switchNs);
      ip(["addr", "add", iface.address, "dev", iface.name], ns);
      ip(["link", "set", iface.name, "up"], ns);
    }
    for (const address of host.loAddresses ?? []) ip(["addr", "add", address, "dev", "lo"], ns);
    for (const route of host.routes) ip(routeArgs(route), ns);
    setSysctls(ns, late);
  }
  return built;
}

/** `ip` arguments that add the route: through its next hop, or on-link out of its device. */
export function routeArgs(route: Route): string[] {
  const to = route.dev !== undefined ? ["dev", route.dev] : ["via", route.via];
  return ["route", "add", route.destination, ...to];
}

/** Splits settings into those of no particular device and those of the given devices. */
function splitDeviceSettings(
  sysctls: Record<string, string>,
  devices: string[],
): [Record<string, string>, Record<string, string>] {
  const early: Record<string, string> = {};
  const late: Record<string, string> = {};
  for (const [key, value] of Object.entries(sysctls)) {
    const dev = /^net\.ipv[46]\.(?:conf|neigh)\.([^.]+)\./.exec(key)?.[1];
    (dev !== undefined && devices.includes(dev) ? late : early)[key] = value;
  }
  return [early, late];
}
