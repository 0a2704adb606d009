// Every packet of the captured VS/TUN connections, for `lvslab demo --method tun` and the run
// report's samples: each client packet as the director got it and the tunnel packet(s) it
// sent, the outer and inner headers in the LVS article's SOURCE/DEST form with their TTLs,
// and each reply as the real server sent it, to the router, not through the director.
import path from "node:path";
import { formatSourceDest } from "../analysis/format.ts";
import type { Packet } from "../analysis/packet.ts";
import { readPcap } from "../analysis/read-pcap.ts";
import { tunnelLabel, type TunnelPacket } from "../analysis/tunnel-decode.ts";
import type { ServiceSpec } from "../assertions/service.ts";
import { buildTunView, tunRoles, type TunView } from "../assertions/tunnel.ts";
import type { CaptureFile } from "../capture/capture.ts";
import { readHostLinks } from "../capture/host-links.ts";
import { directorSegment } from "../capture/segments.ts";
import type { Topology } from "../topology.ts";
import { serverSegmentFiles } from "./dr-pairs.ts";
import { type BypassFormatOptions, formatBypassConnections } from "./bypass-pairs.ts";

/** The TUN path from the captures, with the addresses saved beside them. */
export async function tunViewFromCaptures(
  pub: CaptureFile,
  publicPackets: Packet[],
  directorPackets: Packet[],
  serverFiles: readonly CaptureFile[],
  services: readonly ServiceSpec[],
  tunFile?: CaptureFile,
): Promise<TunView> {
  const links = readHostLinks(path.dirname(pub.path));
  if (!links) {
    throw new Error(`no host-links.json beside ${pub.path}: the hosts' addresses are unknown`);
  }
  const serverPackets = new Map<string, Packet[]>();
  for (const f of serverFiles) {
    const read = (await readPcap(f.path)).packets;
    serverPackets.set(f.host, [...(serverPackets.get(f.host) ?? []), ...read]);
  }
  const tunPackets = tunFile ? (await readPcap(tunFile.path)).packets : null;
  return buildTunView(
    publicPackets,
    directorPackets,
    serverPackets,
    tunRoles(links),
    services,
    tunPackets,
  );
}

/**
 * Reads a TUN lab's captures (the client network, the director's network, the servers'
 * ports) and formats the connections of `vip`:80 (`lvslab demo --method tun`).
 */
export async function tunPairsFromCaptures(
  files: readonly CaptureFile[],
  topology: Topology,
  maxConnections?: number,
): Promise<string[]> {
  const pub = files.find((f) => f.segment === "public");
  const dir = files.find((f) => f.segment === directorSegment(topology));
  if (!pub || !dir) return ["(the captures of the client network and the director's are missing)"];
  const service: ServiceSpec = { protocol: "tcp", vip: topology.vip, port: 80, servers: [] };
  const view = await tunViewFromCaptures(
    pub,
    (await readPcap(pub.path)).packets,
    (await readPcap(dir.path)).packets,
    serverSegmentFiles(files, topology),
    [service],
  );
  return formatTunConnections(view, { maxConnections });
}

/** "SOURCE a:p DEST b:q TTL 63": one IP header. */
export function formatHeader(p: Packet): string {
  return `${formatSourceDest(p)} TTL ${p.ttl}`;
}

/**
 * "OUTER 172.16.1.2 -> 172.16.2.2 IPIP TTL 62 | INNER SOURCE 198.51.100.2:33490 DEST
 * 203.0.113.5:80 TTL 62": a tunnel packet's two headers.
 */
export function formatTunnelPacket(view: TunView, t: TunnelPacket): string {
  const o = t.outer;
  const to = view.roles.servers.get(o.dst);
  const df = o.dontFragment ? " DF" : "";
  return `OUTER ${o.src} -> ${o.dst}${to ? ` (${to})` : ""} ${tunnelLabel(t)} TTL ${o.ttl}${df}` +
    ` | INNER ${formatHeader(t.inner!)}`;
}

export type TunFormatOptions = BypassFormatOptions;

/** The first `maxConnections` connections the director tunnelled, every packet of each. */
export function formatTunConnections(view: TunView, options: TunFormatOptions = {}): string[] {
  const servers = [...view.roles.servers].map(([a, h]) => `${h} ${a}`).sort().join(", ");
  return formatBypassConnections({
    view,
    hops: view.path.hops,
    publicOf: (h) => h.public,
    targetOf: (h) => h.left.length ? view.roles.servers.get(h.left[0].outer.dst) ?? "?" : "nobody",
    hopLines: (h) => [
      h.arrived
        ? `    before  ${formatHeader(h.arrived)}`
        : "    before  (not seen at the director)",
      ...(h.left.length === 0 ? ["    after   (not sent on)"] : []),
      ...h.left.map((t) => `    after   ${formatTunnelPacket(view, t)}`),
    ],
    replyLine: formatHeader,
    legend: `director ${view.roles.director}; real servers ${servers}`,
  }, options);
}
