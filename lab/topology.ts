// The lab's topology as plain data: hosts, their interfaces, the networks they sit on, their
// addresses and routes, and the programs they run. Backends (network namespaces now, Docker
// Compose later) only realise this model; they decide nothing about addresses themselves.
import { parseIPv4, prefixMask } from "../director/net/ipv4-address.ts";

export type HostRole = "client" | "director" | "realserver";

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

export interface Route {
  /** "default" or a prefix such as "172.16.0.0/24". */
  destination: string;
  /** Next hop; must sit on one of the host's networks. */
  via: string;
}

/** An HTTP real-server program: its name and the address:port pairs it listens on. */
export interface HttpServerProgram {
  name: string;
  listen: string[];
}

/** An FTP real-server program (vsftpd, see realservers/ftp-server.ts): where it listens. */
export interface FtpServerProgram {
  listen: string;
}

export interface Host {
  /** Short name, also the suffix of the namespace name: "client", "director", "rs1". */
  name: string;
  role: HostRole;
  interfaces: HostInterface[];
  routes: Route[];
  /** Kernel settings applied inside the host, e.g. net.ipv4.ip_forward = 1. */
  sysctls: Record<string, string>;
  /** The HTTP server this host runs, if any. */
  http?: HttpServerProgram;
  /** The FTP server this host runs, if any (the article's VIP:21 → 172.16.0.3:21). */
  ftp?: FtpServerProgram;
}

export interface Topology {
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

/** Ranges the lab may use (DESIGN.md safety rules): documentation and 172.16.0.0/24. */
export const ALLOWED_RANGES = [
  "192.0.2.0/24",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "172.16.0.0/24",
];

// Quiet segments: no IPv6 autoconfiguration or MLD chatter in captures.
const QUIET_IPV6 = {
  "net.ipv6.conf.all.disable_ipv6": "1",
  "net.ipv6.conf.default.disable_ipv6": "1",
};

/** The LVS article's VS/NAT example mapped onto documentation addresses (DESIGN.md). */
export function defaultTopology(): Topology {
  return {
    switchHost: "net",
    vip: "203.0.113.5",
    networks: [
      { name: "public", bridge: "br-public", cidr: "198.51.100.0/24" },
      { name: "private", bridge: "br-private", cidr: "172.16.0.0/24" },
    ],
    hosts: [
      {
        name: "client",
        role: "client",
        interfaces: [
          {
            name: "eth0",
            network: "public",
            address: "198.51.100.2/24",
            switchPort: "client-eth0",
          },
        ],
        routes: [{ destination: "default", via: "198.51.100.254" }],
        sysctls: { ...QUIET_IPV6 },
      },
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
      {
        name: "rs1",
        role: "realserver",
        interfaces: [
          { name: "eth0", network: "private", address: "172.16.0.2/24", switchPort: "rs1-eth0" },
        ],
        routes: [{ destination: "default", via: "172.16.0.254" }],
        sysctls: { ...QUIET_IPV6 },
        http: { name: "rs1", listen: ["172.16.0.2:80"] },
      },
      {
        name: "rs2",
        role: "realserver",
        interfaces: [
          { name: "eth0", network: "private", address: "172.16.0.3/24", switchPort: "rs2-eth0" },
        ],
        routes: [{ destination: "default", via: "172.16.0.254" }],
        sysctls: { ...QUIET_IPV6 },
        // Only :8000, so a director that forgets to rewrite the port gets refused, not served.
        http: { name: "rs2", listen: ["172.16.0.3:8000"] },
        ftp: { listen: "172.16.0.3:21" },
      },
    ],
  };
}

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

/** Parses "a.b.c.d/len" into numbers; null when malformed. */
export function parseCidr(text: string): { addr: number; bits: number } | null {
  const match = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  if (!match) return null;
  const addr = parseIPv4(match[1]);
  const bits = Number(match[2]);
  if (addr === null || bits > 32) return null;
  return { addr, bits };
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

/** The director's interface on the network of real servers (the `--private-dev` argument). */
export function directorPrivateInterface(topology: Topology): HostInterface {
  const director = topology.hosts.find((h) => h.role === "director");
  const realServer = topology.hosts.find((h) => h.role === "realserver");
  if (!director || !realServer) throw new Error("the topology has no director or no real server");
  const network = realServer.interfaces[0].network;
  const iface = director.interfaces.find((i) => i.network === network);
  if (!iface) throw new Error(`the director has no interface on network '${network}'`);
  return iface;
}

/** Returns every problem with the topology as sentences; empty when it is sound. */
export function validateTopology(topology: Topology): string[] {
  const problems: string[] = [];
  const networks = new Map<string, { addr: number; bits: number }>();
  const bridges = new Set<string>();
  for (const net of topology.networks) {
    const cidr = parseCidr(net.cidr);
    if (!cidr) {
      problems.push(`network '${net.name}': '${net.cidr}' is not a prefix like 10.0.0.0/24`);
    } else if (!isAllowedAddress(cidr.addr) || cidr.bits < 24) {
      problems.push(`network '${net.name}': ${net.cidr} is outside ${ALLOWED_RANGES.join(", ")}`);
    } else networks.set(net.name, cidr);
    if (bridges.has(net.bridge)) {
      problems.push(`network '${net.name}': bridge '${net.bridge}' is used twice`);
    }
    if (net.bridge.length > DEVICE_NAME_MAX) {
      problems.push(`network '${net.name}': bridge name '${net.bridge}' is longer than 15 chars`);
    }
    bridges.add(net.bridge);
  }
  const vip = parseIPv4(topology.vip);
  if (vip === null || !isAllowedAddress(vip)) {
    problems.push(`VIP '${topology.vip}' is not an address in ${ALLOWED_RANGES.join(", ")}`);
  }
  const hostNames = new Set<string>([topology.switchHost]);
  const ports = new Set<string>();
  const addresses = new Set<number>();
  for (const host of topology.hosts) {
    const where = `host '${host.name}'`;
    if (!HOST_NAME_PATTERN.test(host.name)) {
      problems.push(`${where}: name must be 1-12 lower-case letters and digits`);
    }
    if (hostNames.has(host.name)) problems.push(`${where}: the name is used twice`);
    hostNames.add(host.name);
    const onNetworks: { addr: number; bits: number }[] = [];
    for (const iface of host.interfaces) {
      const here = `${where} ${iface.name}`;
      if (iface.name.length > DEVICE_NAME_MAX || iface.switchPort.length > DEVICE_NAME_MAX) {
        problems.push(`${here}: device names must be at most 15 characters`);
      }
      if (ports.has(iface.switchPort)) {
        problems.push(`${here}: switch port '${iface.switchPort}' is used twice`);
      }
      ports.add(iface.switchPort);
      const net = networks.get(iface.network);
      if (!net) {
        problems.push(`${here}: no valid network '${iface.network}'`);
        continue;
      }
      const cidr = parseCidr(iface.address);
      if (!cidr) {
        problems.push(`${here}: '${iface.address}' is not an address like 10.0.0.2/24`);
      } else if (!inPrefix(cidr.addr, net) || cidr.bits !== net.bits) {
        problems.push(`${here}: ${iface.address} does not belong to network ${iface.network}`);
      } else if (addresses.has(cidr.addr)) {
        problems.push(`${here}: ${iface.address} is used twice`);
      } else {
        addresses.add(cidr.addr);
        onNetworks.push(net);
      }
    }
    for (const route of host.routes) {
      const via = parseIPv4(route.via);
      if (via === null || !onNetworks.some((n) => inPrefix(via, n))) {
        problems.push(`${where}: route via ${route.via} is not on one of the host's networks`);
      }
      if (route.destination !== "default") {
        const dest = parseCidr(route.destination);
        if (!dest || !isAllowedAddress(dest.addr)) {
          problems.push(`${where}: route destination '${route.destination}' is not allowed`);
        }
      }
    }
  }
  if (topology.hosts.filter((h) => h.role === "director").length !== 1) {
    problems.push("the topology needs exactly one director");
  }
  return problems;
}
