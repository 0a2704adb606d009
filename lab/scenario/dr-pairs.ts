// Every packet of the captured VS/DR connections, for `lvslab demo --method dr` and the run
// report's samples: each client packet as the router handed it to the director and as the
// director sent it on (MACs named by host, the IP header in the LVS article's SOURCE/DEST
// form with its TTL), and each reply as the real server sent it, straight to the router.
import { formatSourceDest } from "../analysis/format.ts";
import type { Packet } from "../analysis/packet.ts";
import path from "node:path";
import { readPcap } from "../analysis/read-pcap.ts";
import { buildDrView, drRoles, type DrView } from "../assertions/direct-routing.ts";
import type { ServiceSpec } from "../assertions/service.ts";
import type { CaptureFile } from "../capture/capture.ts";
import { readHostLinks } from "../capture/host-links.ts";
import type { Topology } from "../topology.ts";
import { type BypassFormatOptions, formatBypassConnections } from "./bypass-pairs.ts";

/** The captures of the real servers' own interfaces (DR). */
export function serverSegmentFiles(
  files: readonly CaptureFile[],
  topology: Topology,
): CaptureFile[] {
  const servers = new Set(topology.hosts.filter((h) => h.role === "realserver").map((h) => h.name));
  return files.filter((f) => servers.has(f.host));
}

/** The DR path from the captures, with the MACs saved beside them when they started. */
export async function drViewFromCaptures(
  pub: CaptureFile,
  publicPackets: Packet[],
  lanPackets: Packet[],
  serverFiles: readonly CaptureFile[],
  services: readonly ServiceSpec[],
  tunFile?: CaptureFile,
): Promise<DrView> {
  const links = readHostLinks(path.dirname(pub.path));
  if (!links) {
    throw new Error(`no host-links.json beside ${pub.path}: the hosts' MACs are unknown`);
  }
  const network = links.find((l) => l.role === "director")?.network ?? "";
  const serverPackets = new Map<string, Packet[]>();
  for (const f of serverFiles) {
    const read = (await readPcap(f.path)).packets;
    serverPackets.set(f.host, [...(serverPackets.get(f.host) ?? []), ...read]);
  }
  const tunPackets = tunFile ? (await readPcap(tunFile.path)).packets : null;
  return buildDrView(
    publicPackets,
    lanPackets,
    serverPackets,
    drRoles(links, network),
    services,
    tunPackets,
  );
}

/**
 * Reads a DR lab's captures (the client network, the director's LAN port, the servers'
 * ports) and formats the connections of `vip`:80 (`lvslab demo --method dr`).
 */
export async function drPairsFromCaptures(
  files: readonly CaptureFile[],
  topology: Topology,
  maxConnections?: number,
): Promise<string[]> {
  const pub = files.find((f) => f.segment === "public");
  const lanNetwork = topology.hosts.find((h) => h.role === "director")?.interfaces[0]?.network;
  const lan = files.find((f) => f.segment === lanNetwork);
  if (!pub || !lan) return ["(the captures of the client network and the LAN are missing)"];
  const service: ServiceSpec = { protocol: "tcp", vip: topology.vip, port: 80, servers: [] };
  const view = await drViewFromCaptures(
    pub,
    (await readPcap(pub.path)).packets,
    (await readPcap(lan.path)).packets,
    serverSegmentFiles(files, topology),
    [service],
  );
  return formatDrConnections(view, { maxConnections });
}

/** "router", "director", "rs2", or the MAC itself when no host of the lab has it. */
function hostOfMac(view: DrView, mac: string | null): string {
  if (mac === null) return "?";
  if (mac === view.roles.director) return "director";
  if (view.roles.routers.has(mac)) return "router";
  return view.roles.servers.get(mac) ?? mac;
}

/** "MAC src router   dst director  SOURCE a:p DEST b:q TTL 63". */
export function formatDrFrame(view: DrView, p: Packet): string {
  const src = hostOfMac(view, p.srcMac).padEnd(8);
  const dst = hostOfMac(view, p.dstMac).padEnd(8);
  return `MAC src ${src} dst ${dst}  ${formatSourceDest(p)} TTL ${p.ttl}`;
}

/** "MACs: router 02:…, director 02:…, rs1 02:…": who is who, once. */
export function macLegend(view: DrView): string {
  const names = [
    ...[...view.roles.routers].map((m) => `router ${m}`),
    `director ${view.roles.director}`,
    ...[...view.roles.servers].sort((a, b) => a[1].localeCompare(b[1])).map(([m, h]) =>
      `${h} ${m}`
    ),
  ];
  return `MACs on the LAN: ${names.join(", ")}`;
}

export type DrFormatOptions = BypassFormatOptions;

/** The first `maxConnections` connections the director forwarded, every packet of each. */
export function formatDrConnections(view: DrView, options: DrFormatOptions = {}): string[] {
  return formatBypassConnections({
    view,
    hops: view.path.hops,
    publicOf: (h) => h.public,
    targetOf: (h) => h.left ? hostOfMac(view, h.left.dstMac) : "nobody",
    hopLines: (h) => [
      h.arrived
        ? `    before  ${formatDrFrame(view, h.arrived)}`
        : "    before  (not seen at the director)",
      h.left ? `    after   ${formatDrFrame(view, h.left)}` : "    after   (not sent on)",
    ],
    replyLine: (r) => formatDrFrame(view, r),
    legend: macLegend(view),
  }, options);
}
