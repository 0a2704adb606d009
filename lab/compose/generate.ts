// A Compose project generated from any Topology (lab/topology.ts): one service per host on
// internal networks with fixed subnets and static addresses; what the kernel of a container
// cannot be told later (its /proc/sys is read-only) in `sysctls:`; addresses on lo, routes
// and interface names through the entry script (docker/entrypoints/host.sh) by environment;
// each host's programs (lab/programs.ts) as its command. The file runs with plain
// `docker compose -f FILE up`; compose.yaml is this for the default topology, written by
// hand with comments (lab/compose/generate.test.ts checks they agree).
import YAML from "yaml";
import { directorLanInterface, type Host, parseCidr, type Topology } from "../topology.ts";
import { decapArgs, decapSummaries, kernelDecapArgs, kernelModules } from "../decapsulation.ts";
import { formatIPv4 } from "../../director/net/ipv4-address.ts";
import { directorHost, hostPrograms } from "../programs.ts";
import { servicesFile } from "../paths.ts";

export interface GenerateOptions {
  /** The repository as the file names it: "." beside it (compose.yaml), else absolute. */
  root: string;
  /** Whether the director host runs the director (default true). */
  director?: boolean;
}

type Service = Record<string, unknown>;

const ENTRY = "/usr/local/lib/lvslab";
/** Where a container's repository mount is (CONTAINER_REPO in compose-backend.ts). */
const REPO_MOUNT = "/lvslab";

function join(root: string, rel: string): string {
  return root === "." ? `./${rel}` : `${root.replace(/\/$/, "")}/${rel}`;
}

/** Names the topology on every container: `lvslab status` reads it back. */
export const TOPOLOGY_LABEL = "lvslab.topology";

/** What every host shares: the image, its build, docker-init, NET_ADMIN, the repo mount. */
function baseService(root: string, topology: Topology): Service {
  return {
    image: "lvslab-host:latest",
    build: {
      context: join(root, "docker"),
      dockerfile: "host.Dockerfile",
      args: { BASE_IMAGE: "${BASE_IMAGE:-node:20-bookworm-slim}" },
    },
    init: true,
    stop_grace_period: "5s",
    cap_add: ["NET_ADMIN"],
    volumes: [`${root}:${REPO_MOUNT}:ro`],
    labels: { [TOPOLOGY_LABEL]: topology.name },
  };
}

/** The entry script's variables: default route, other routes, lo addresses, device names. */
function networkEnvironment(host: Host): Record<string, string> {
  const env: Record<string, string> = {};
  const gateway = host.routes.find((r) => r.destination === "default");
  env.LVSLAB_GATEWAY = gateway?.via ?? "none";
  const routes = host.routes.filter((r) => r.destination !== "default");
  if (routes.length > 0) {
    // On-link routes as dev:<device> (no next hop is written so: an address has no colon).
    env.LVSLAB_ROUTES = routes.map((r) =>
      `${r.destination}=${r.dev !== undefined ? `dev:${r.dev}` : r.via}`
    ).join(" ");
  }
  if ((host.loAddresses ?? []).length > 0) env.LVSLAB_LO_ADDRESSES = host.loAddresses!.join(" ");
  // Docker names interfaces in an order of its own: the entry script renames them.
  if (host.interfaces.length > 1 || host.interfaces.some((i) => i.name !== "eth0")) {
    env.LVSLAB_INTERFACES = host.interfaces
      .map((i) => `${i.name}=${i.address.split("/")[0]}`)
      .join(" ");
  }
  return env;
}

/** The director: its TUN device, the settings director/host/host-setup.ts needs, its table. */
function directorService(host: Host, topology: Topology, root: string, service: Service) {
  // "none": no LAN shared with the real servers (VS/TUN), so no --private-dev.
  const privateAddr = directorLanInterface(topology)?.address ?? "none";
  Object.assign(service, {
    devices: ["/dev/net/tun:/dev/net/tun"],
    volumes: [
      ...(service.volumes as string[]),
      `\${LVSLAB_CONFIG_DIR:-${join(root, "lab")}}:/lvslab-config:ro`,
    ],
    command: [`${ENTRY}/director.sh`],
  });
  const sysctls = service.sysctls as Record<string, string>;
  Object.assign(sysctls, {
    "net.ipv4.ip_forward": "1",
    "net.ipv4.conf.all.rp_filter": "0",
    "net.ipv4.conf.default.rp_filter": "0",
    "net.ipv4.conf.default.accept_local": "1",
  });
  for (const i of host.interfaces) sysctls[`net.ipv4.conf.${i.name}.rp_filter`] = "0";
  // Its proxy ARP answer for a VIP on lo goes out at once (director/host/host-setup.ts).
  for (const i of host.interfaces) sysctls[`net.ipv4.neigh.${i.name}.proxy_delay`] = "0";
  const env = service.environment as Record<string, string>;
  env.LVSLAB_PRIVATE_ADDR = privateAddr.split("/")[0];
  env.LVSLAB_CONFIG = `/lvslab-config/\${LVSLAB_CONFIG:-${servicesFile(topology)}}`;
}

/** Where a Compose real server's lvslab-decap writes its counters. */
export const COMPOSE_DECAP_STATS = "/run/lvslab-decap.json";

/**
 * A VS/TUN real server's decapsulation, for realserver.sh: its types, the kernel modules its
 * recipe needs for them all (lab/decapsulation.ts; the script looks for them in /sys/module),
 * the kernel recipe's and lvslab-decap's arguments and what either way says. lvslab-decap needs a TUN device and raw sockets.
 */
function tunnelService(host: Host, service: Service): void {
  const tunnel = host.tunnel!;
  Object.assign(service, {
    devices: ["/dev/net/tun:/dev/net/tun"],
    cap_add: [...(service.cap_add as string[]), "NET_RAW"],
  });
  const env = service.environment as Record<string, string>;
  env.LVSLAB_DECAP_TYPE = tunnel.types.join(",");
  env.LVSLAB_DECAP_MODULES = kernelModules(tunnel).join(" ");
  // The script prints one of these (`lvslab status`), as chooseDecapsulation says it.
  const summaries = decapSummaries(tunnel);
  env.LVSLAB_DECAP_KERNEL_SUMMARY = summaries.kernel;
  env.LVSLAB_DECAP_USERSPACE_SUMMARY = summaries.userspace;
  env.LVSLAB_DECAP_KERNEL_ARGS = kernelDecapArgs(tunnel).join(" ");
  env.LVSLAB_DECAP_ARGS = decapArgs(tunnel, COMPOSE_DECAP_STATS).join(" ");
  // /proc/sys is read-only in a container: what lvslab-decap would set, set here.
  Object.assign(service.sysctls as Record<string, string>, {
    "net.ipv4.conf.all.rp_filter": "0",
    "net.ipv4.conf.default.rp_filter": "0",
  });
}

/** A real server's HTTP server (and vsftpd) through docker/entrypoints/realserver.sh. */
function serverService(host: Host, service: Service): void {
  if (!host.http) {
    throw new Error(
      `host '${host.name}' runs an FTP server without an HTTP server; on Compose the FTP ` +
        "server runs beside an HTTP server (docker/entrypoints/realserver.sh): give it `http`",
    );
  }
  const env = service.environment as Record<string, string>;
  env.LVSLAB_SERVER_NAME = host.http.name;
  env.LVSLAB_HTTP_LISTEN = host.http.listen.join(" ");
  if (host.ftp) env.LVSLAB_FTP_LISTEN = host.ftp.listen;
  if (host.ftp?.pasvAddress) env.LVSLAB_FTP_PASV_ADDRESS = host.ftp.pasvAddress;
  if (host.tunnel) tunnelService(host, service);
  service.command = [`${ENTRY}/realserver.sh`];
}

function hostService(host: Host, topology: Topology, options: GenerateOptions): Service {
  const service: Service = {
    ...baseService(options.root, topology),
    sysctls: { ...host.sysctls },
    hostname: host.name,
    environment: networkEnvironment(host),
    command: ["sleep", "infinity"],
  };
  const programs = hostPrograms(host, options.director ?? true);
  if (programs.includes("director")) directorService(host, topology, options.root, service);
  else if (programs.length > 0) serverService(host, service);
  if (host.role === "client") {
    const others = topology.hosts.filter((h) => h.role !== "client").map((h) => h.name);
    if (others.length > 0) service.depends_on = others;
  }
  service.networks = Object.fromEntries(
    host.interfaces.map((i) => [i.network, { ipv4_address: i.address.split("/")[0] }]),
  );
  return service;
}

/**
 * Docker keeps each network's first address for its bridge: a host there would not start.
 * Throws a sentence naming the host.
 */
function checkDockerAddresses(topology: Topology): void {
  for (const host of topology.hosts) {
    for (const i of host.interfaces) {
      const net = topology.networks.find((n) => n.name === i.network)!;
      const first = formatIPv4(parseCidr(net.cidr)!.addr + 1);
      if (i.address.split("/")[0] === first) {
        throw new Error(
          `host '${host.name}' ${i.name}: ${first} is the address Docker keeps for the bridge of ` +
            `network '${net.name}'; give the host another one`,
        );
      }
    }
  }
}

/** The Compose project of `topology`, as the object `YAML.parse` of its file gives. */
export function composeProject(topology: Topology, options: GenerateOptions): Service {
  checkDockerAddresses(topology);
  return {
    services: Object.fromEntries(
      topology.hosts.map((h) => [h.name, hostService(h, topology, options)]),
    ),
    networks: Object.fromEntries(
      topology.networks.map((
        n,
      ) => [n.name, { internal: true, ipam: { config: [{ subnet: n.cidr }] } }]),
    ),
  };
}

/** The project as a file: a header saying where it comes from and how to run it, then YAML. */
export function composeFileText(
  topology: Topology,
  options: GenerateOptions & { project: string },
): string {
  const director = directorHost(topology);
  const header = [
    `# Generated by lvslab from the topology '${topology.name}'`,
    `# (lab/topology.ts, lab/compose/generate.ts) for Compose project '${options.project}'.`,
    "# Every network is internal: no packet leaves the machine. Runs on its own too:",
    `#   docker compose -f <this file> -p ${options.project} up -d`,
    `#   docker compose -f <this file> -p ${options.project} down -v`,
    `# Hosts: ${topology.hosts.map((h) => `${h.name} (${h.role})`).join(", ")}` +
    (director ? `; the director is ${director.name}.` : "."),
  ];
  return `${header.join("\n")}\n\n${YAML.stringify(composeProject(topology, options))}`;
}
