// The lab's topology model, as plain data: hosts with a role (client, router, director,
// realserver), the networks (layer-2 segments) they sit on, their addresses (also on `lo`),
// routes, kernel settings and the programs they run. Backends (lab/netns, lab/compose) only
// realise this model; they decide nothing about addresses themselves. validateTopology says in
// sentences what is wrong with one.
//   A new topology: a file in lab/topologies/ and one line in its registry (index.ts).
//   A new host role: HostRole and HOST_ROLES here; what a role runs is lab/programs.ts.
//   A new backend: lab/backends.ts.
import { parseCidr, parseIPv4, prefixMask } from "../director/net/ipv4-address.ts";
export { parseCidr } from "../director/net/ipv4-address.ts";
import { TUNNEL_TYPES, type TunnelType } from "../director/service/tunnel-options.ts";

export type HostRole = "client" | "router" | "director" | "realserver";

/** Every role, with what a host of it does (the validation's and the docs' one list). */
export const HOST_ROLES: Record<HostRole, string> = {
  client: "sends the traffic; routes towards the services",
  router: "forwards between its networks (net.ipv4.ip_forward = 1) with routes of its own",
  director: "runs the LVS director (lab/programs.ts), which holds the VIP",
  realserver: "runs the servers the director balances onto",
};

/** A layer-2 segment: a bridge in the netns backend, an internal network in Compose. */
export interface Network {
  /** Short name, e.g. "public". */
  name: string;
  /** Bridge device name inside the switch namespace (≤ 15 chars). */
  bridge: string;
  /** The network's IPv4 prefix, e.g. "198.51.100.0/24". */
  cidr: string;
}

export interface HostInterface {
  /** Device name inside the host, e.g. "eth0". */
  name: string;
  /** Name of the network (Network.name) the interface is plugged into. */
  network: string;
  /** Address with prefix length, e.g. "198.51.100.2/24". */
  address: string;
  /** Name of the veth end on the switch side (≤ 15 chars, unique in the lab). */
  switchPort: string;
}

/** A route: through a next hop (`via`), or on-link out of one of the host's devices (`dev`). */
export type Route =
  & {
    /** "default" or a prefix such as "172.16.0.0/24". */
    destination: string;
  }
  & (
    /** Next hop; must sit on one of the host's networks. */
    | { via: string; dev?: undefined }
    /**
     * On-link: the destination is found by ARP out of this device (one of the host's
     * interfaces), e.g. a DR router's route to the VIP on the LAN of director and real servers.
     */
    | { dev: string; via?: undefined }
  );

/** An HTTP real-server program: its name and the address:port pairs it listens on. */
export interface HttpServerProgram {
  name: string;
  listen: string[];
}

/** An FTP real-server program (vsftpd, see realservers/ftp-server.ts): where it listens. */
export interface FtpServerProgram {
  listen: string;
  /**
   * The address the 227 reply names (vsftpd's pasv_address); absent: the control
   * connection's own. A DR real server names the VIP, which it answers on directly.
   */
  pasvAddress?: string;
}

/**
 * What a VS/TUN real server decapsulates: the tunnel its director sends (the service table's
 * tunType/tunPort for this server). lab/decapsulation.ts picks the kernel's device or
 * lvslab-decap for it.
 */
export interface TunnelEndpoint {
  type: TunnelType;
  /** The directors' addresses the tunnel packets come from. */
  directors: string[];
  /** GUE only: the UDP port (the table's tunPort). */
  guePort?: number;
  /** The VIPs the inner packets may be for. */
  vips: string[];
}

export interface Host {
  /** Short name, also the suffix of the namespace name: "client", "director", "rs1". */
  name: string;
  role: HostRole;
  interfaces: HostInterface[];
  routes: Route[];
  /** Kernel settings applied inside the host, e.g. net.ipv4.ip_forward = 1 (net.* only). */
  sysctls: Record<string, string>;
  /** Addresses on the host's `lo`, with prefix, e.g. a DR real server's "203.0.113.5/32". */
  loAddresses?: string[];
  /** The HTTP server this host runs, if any. */
  http?: HttpServerProgram;
  /** The FTP server this host runs, if any (the article's VIP:21 → 172.16.0.3:21). */
  ftp?: FtpServerProgram;
  /** A VS/TUN real server's tunnel end, if any. */
  tunnel?: TunnelEndpoint;
}

export interface Topology {
  /** The topology's name in the registry (lab/topologies/index.ts), e.g. "nat". */
  name: string;
  /**
   * The director's default service table, a file in lab/ (`up` without --config, the
   * Compose file's default); absent: default-services.yaml.
   */
  services?: string;
  /** Name of the host that holds the bridges (the "switches"); it has no addresses. */
  switchHost: string;
  networks: Network[];
  hosts: Host[];
  /** The virtual service address clients use. */
  vip: string;
}

/** Lab names become namespace-name prefixes; no dash, so `<name>-<host>` parses one way. */
export const LAB_NAME_PATTERN = /^[a-z][a-z0-9]{0,15}$/;
export const DEFAULT_LAB_NAME = "lvslab";
const HOST_NAME_PATTERN = /^[a-z][a-z0-9]{0,11}$/;
const DEVICE_NAME_MAX = 15;

/** Ranges the lab may use (DESIGN.md safety rules): documentation and 172.16.0.0/16. */
export const ALLOWED_RANGES = [
  "192.0.2.0/24",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "172.16.0.0/16",
];
/** Left unused by topologies: machines of this class hold their own address in it. */
const RESERVED_RANGE = "192.0.2.0/24";
/** What a topology's addresses may be, for sentences. */
const PLAN = "198.51.100.0/24 (clients), 203.0.113.0/24 (VIPs, public LANs) or 172.16.0.0/16";

export { defaultTopology } from "./topologies/nat.ts";

/** Throws a sentence when `name` cannot be a lab name. */
export function checkLabName(name: string): void {
  if (!LAB_NAME_PATTERN.test(name)) {
    throw new Error(
      `lab name '${name}' is not valid: use 1-16 lower-case letters and digits, starting with a letter`,
    );
  }
}

/** Namespace that realises `host` (or the switch host) in lab `labName`. */
export function namespaceName(labName: string, host: string): string {
  return `${labName}-${host}`;
}

/** Every namespace of the lab, switch first. */
export function labNamespaces(labName: string, topology: Topology): string[] {
  return [topology.switchHost, ...topology.hosts.map((h) => h.name)].map((h) =>
    namespaceName(labName, h)
  );
}

function inPrefix(addr: number, prefix: { addr: number; bits: number }): boolean {
  const mask = prefixMask(prefix.bits);
  return ((addr & mask) >>> 0) === ((prefix.addr & mask) >>> 0);
}

/** True when the address lies in one of ALLOWED_RANGES. */
export function isAllowedAddress(addr: number): boolean {
  return ALLOWED_RANGES.some((r) => inPrefix(addr, parseCidr(r)!));
}

/** Finds the host, or throws a sentence listing the hosts there are. */
export function findHost(topology: Topology, name: string): Host {
  const host = topology.hosts.find((h) => h.name === name);
  if (!host) {
    const names = topology.hosts.map((h) => h.name).join(", ");
    throw new Error(`no host '${name}' in the lab; hosts are: ${names}`);
  }
  return host;
}

/**
 * The director's interface on the network of real servers (the `--private-dev` argument),
 * or null when it has none: VS/TUN's real servers are routed to, and no reply comes back.
 */
export function directorLanInterface(topology: Topology): HostInterface | null {
  const director = topology.hosts.find((h) => h.role === "director");
  const realServer = topology.hosts.find((h) => h.role === "realserver");
  if (!director || !realServer) throw new Error("the topology has no director or no real server");
  const network = realServer.interfaces[0].network;
  return director.interfaces.find((i) => i.network === network) ?? null;
}

/** directorLanInterface, which must exist (NAT and DR captures, their private segment). */
export function directorPrivateInterface(topology: Topology): HostInterface {
  const iface = directorLanInterface(topology);
  if (!iface) {
    const network = topology.hosts.find((h) => h.role === "realserver")!.interfaces[0].network;
    throw new Error(`the director has no interface on network '${network}'`);
  }
  return iface;
}

type Prefix = { addr: number; bits: number };

/** True when a topology may use the address: in the plan, not in the reserved range. */
function inPlan(addr: number): boolean {
  return isAllowedAddress(addr) && !inPrefix(addr, parseCidr(RESERVED_RANGE)!);
}

const NETWORK_NAME_PATTERN = /^[a-z][a-z0-9]{0,14}$/;
const SYSCTL_PATTERN = /^net\.[a-z0-9_.-]+$/;

function checkNetworks(topology: Topology, problems: string[]): Map<string, Prefix> {
  const networks = new Map<string, Prefix>();
  const bridges = new Set<string>();
  const names = new Set<string>();
  for (const net of topology.networks) {
    const where = `network '${net.name}'`;
    if (!NETWORK_NAME_PATTERN.test(net.name)) {
      problems.push(`${where}: use 1-15 lower-case letters and digits, starting with a letter`);
    }
    if (names.has(net.name)) problems.push(`${where}: the name is used twice`);
    names.add(net.name);
    const cidr = parseCidr(net.cidr);
    if (!cidr) {
      problems.push(`${where}: '${net.cidr}' is not a prefix like 10.0.0.0/24`);
    } else if (!inPlan(cidr.addr) || cidr.bits < 24) {
      problems.push(`${where}: ${net.cidr} is outside the lab's address plan: use ${PLAN}`);
    } else if (((cidr.addr & prefixMask(cidr.bits)) >>> 0) !== cidr.addr >>> 0) {
      problems.push(`${where}: ${net.cidr} has host bits set; write the network's own address`);
    } else networks.set(net.name, cidr);
    if (bridges.has(net.bridge)) problems.push(`${where}: bridge '${net.bridge}' is used twice`);
    if (net.bridge.length > DEVICE_NAME_MAX) {
      problems.push(`${where}: bridge name '${net.bridge}' is longer than 15 chars`);
    }
    bridges.add(net.bridge);
  }
  return networks;
}

/** What the interface checks share across hosts: addresses and switch ports seen so far. */
interface Seen {
  owners: Map<number, string>;
  ports: Set<string>;
}

/** Checks a host's interfaces; returns the prefixes of the networks it sits on. */
function checkInterfaces(
  topology: Topology,
  host: Host,
  networks: Map<string, Prefix>,
  seen: Seen,
  problems: string[],
): Prefix[] {
  const onNetworks: Prefix[] = [];
  const devices = new Set<string>();
  for (const iface of host.interfaces) {
    const here = `host '${host.name}' ${iface.name}`;
    if (iface.name.length > DEVICE_NAME_MAX || iface.switchPort.length > DEVICE_NAME_MAX) {
      problems.push(`${here}: device names must be at most 15 characters`);
    }
    if (devices.has(iface.name) || iface.name === "lo") {
      problems.push(`${here}: the host has this device name twice (or it is lo)`);
    }
    devices.add(iface.name);
    if (seen.ports.has(iface.switchPort)) {
      problems.push(`${here}: switch port '${iface.switchPort}' is used twice`);
    }
    seen.ports.add(iface.switchPort);
    const net = networks.get(iface.network);
    if (!net) {
      const known = topology.networks.some((n) => n.name === iface.network);
      problems.push(
        known
          ? `${here}: network '${iface.network}' is not valid (see its own problem)`
          : `${here}: network '${iface.network}' is not one of the topology's networks ` +
            `(${topology.networks.map((n) => n.name).join(", ")})`,
      );
      continue;
    }
    const cidr = parseCidr(iface.address);
    const owner = cidr && seen.owners.get(cidr.addr);
    if (!cidr) {
      problems.push(`${here}: '${iface.address}' is not an address like 10.0.0.2/24`);
    } else if (!inPrefix(cidr.addr, net) || cidr.bits !== net.bits) {
      problems.push(`${here}: ${iface.address} does not belong to network ${iface.network}`);
    } else if (owner) {
      problems.push(`${here}: ${iface.address} is used twice (${owner} has it too)`);
    } else {
      seen.owners.set(cidr.addr, here);
      onNetworks.push(net);
    }
  }
  return onNetworks;
}

function checkRoutes(host: Host, onNetworks: Prefix[], problems: string[]): void {
  const where = `host '${host.name}'`;
  const destinations = new Set<string>();
  const devices = host.interfaces.map((i) => i.name);
  for (const route of host.routes) {
    if (route.dev !== undefined) {
      if (route.via !== undefined || !devices.includes(route.dev)) {
        problems.push(
          `${where}: on-link route to ${route.destination} names device '${route.dev}'; give ` +
            `one of the host's interfaces (${devices.join(", ")}) and no via`,
        );
      }
      // The Compose entry script sets the default route through a gateway only.
      if (route.destination === "default") {
        problems.push(`${where}: the default route needs a next hop (via), not a device`);
      }
    } else {
      const via = parseIPv4(route.via);
      if (via === null || !onNetworks.some((n) => inPrefix(via, n))) {
        problems.push(`${where}: route via ${route.via} is not on one of the host's networks`);
      }
    }
    if (destinations.has(route.destination)) {
      problems.push(`${where}: two routes to ${route.destination}`);
    }
    destinations.add(route.destination);
    if (route.destination !== "default") {
      const dest = parseCidr(route.destination);
      if (!dest || !inPlan(dest.addr)) {
        problems.push(
          `${where}: route destination '${route.destination}' is not a prefix in ${PLAN}`,
        );
      }
    }
  }
}

/** The role, kernel settings and `lo` addresses of one host. */
function checkHostSettings(host: Host, problems: string[]): void {
  const where = `host '${host.name}'`;
  if (!Object.hasOwn(HOST_ROLES, host.role)) {
    problems.push(
      `${where}: role '${host.role}' is not one of ${Object.keys(HOST_ROLES).join(", ")}`,
    );
  }
  for (const key of Object.keys(host.sysctls)) {
    if (!SYSCTL_PATTERN.test(key)) {
      problems.push(
        `${where}: sysctl '${key}' is not a network setting (net.*); only those belong to a ` +
          "host's own namespace or container",
      );
    }
  }
  for (const address of host.loAddresses ?? []) {
    const cidr = parseCidr(address);
    if (!cidr || !inPlan(cidr.addr)) {
      problems.push(`${where} lo: '${address}' is not an address with prefix in ${PLAN}`);
    }
  }
  if (host.tunnel) checkTunnel(host, host.tunnel, problems);
  if (host.role === "router") {
    if (host.sysctls["net.ipv4.ip_forward"] !== "1") {
      problems.push(`${where}: a router needs net.ipv4.ip_forward = 1 in its sysctls`);
    }
    if (host.interfaces.length < 2) {
      problems.push(`${where}: a router needs interfaces on two networks at least`);
    }
  }
}

/** A tunnel end: a known type, directors in the plan, a GUE port with GUE only. */
function checkTunnel(host: Host, tunnel: TunnelEndpoint, problems: string[]): void {
  const where = `host '${host.name}' tunnel`;
  if (!TUNNEL_TYPES.includes(tunnel.type)) {
    problems.push(`${where}: type '${tunnel.type}' is not one of ${TUNNEL_TYPES.join(", ")}`);
  }
  for (const addr of [...tunnel.directors, ...tunnel.vips]) {
    const a = parseIPv4(addr);
    if (a === null || !inPlan(a)) problems.push(`${where}: '${addr}' is not an address in ${PLAN}`);
  }
  if (tunnel.directors.length === 0) problems.push(`${where}: name the director's address`);
  const port = tunnel.guePort;
  if ((tunnel.type === "gue") !== (port !== undefined)) {
    problems.push(`${where}: a GUE tunnel needs guePort, the others take none`);
  } else if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
    problems.push(`${where}: guePort ${port} is not a port number`);
  }
}

/** Returns every problem with the topology as sentences; empty when it is sound. */
export function validateTopology(topology: Topology): string[] {
  const problems: string[] = [];
  const networks = checkNetworks(topology, problems);
  const vip = parseIPv4(topology.vip);
  if (vip === null || !inPlan(vip)) {
    problems.push(`VIP '${topology.vip}' is not an address in ${PLAN}`);
  }
  const hostNames = new Set<string>([topology.switchHost]);
  const seen: Seen = { owners: new Map(), ports: new Set() };
  for (const host of topology.hosts) {
    if (!HOST_NAME_PATTERN.test(host.name)) {
      problems.push(
        `host '${host.name}': name must be 1-12 lower-case letters and digits, starting with ` +
          "a letter (it ends the host's namespace and container names)",
      );
    }
    if (hostNames.has(host.name)) problems.push(`host '${host.name}': the name is used twice`);
    hostNames.add(host.name);
    const onNetworks = checkInterfaces(topology, host, networks, seen, problems);
    checkRoutes(host, onNetworks, problems);
    checkHostSettings(host, problems);
  }
  if (topology.hosts.length === 0) problems.push("the topology has no hosts");
  return problems;
}

/** Throws one sentence naming every problem, when the topology is not sound. */
export function assertSoundTopology(topology: Topology): void {
  const problems = validateTopology(topology);
  if (problems.length > 0) {
    throw new Error(`the topology is not sound:\n  ${problems.join("\n  ")}`);
  }
}
