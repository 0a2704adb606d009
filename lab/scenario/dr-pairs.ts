// Every packet of the captured VS/DR connections, for `lvslab demo --method dr` and the run
// report's samples: each client packet as the router handed it to the director and as the
// director sent it on (MACs named by host, the IP header in the LVS article's SOURCE/DEST
// form with its TTL), and each reply as the real server sent it, straight to the router.
import { type Connection, formatEndpoint } from "../analysis/connections.ts";
import { flowKey } from "../analysis/dr-path.ts";
import { describePacket, formatSourceDest } from "../analysis/format.ts";
import type { Packet } from "../analysis/packet.ts";
import path from "node:path";
import { readPcap } from "../analysis/read-pcap.ts";
import { buildDrView, drRoles, type DrView } from "../assertions/direct-routing.ts";
import type { ServiceSpec } from "../assertions/service.ts";
import type { CaptureFile } from "../capture/capture.ts";
import { readHostLinks } from "../capture/host-links.ts";
import type { Topology } from "../topology.ts";

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
  return buildDrView(publicPackets, lanPackets, serverPackets, drRoles(links, network), services);
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

/** A connection's replies as its real server sent them, on the server's own port. */
function repliesOf(view: DrView, c: Connection, holder: string | null): Packet[] {
  if (!holder) return [];
  const client = formatEndpoint(c.client);
  const server = formatEndpoint(c.server);
  return (view.serverPackets.get(holder) ?? []).filter((p) =>
    `${p.src}:${p.srcPort}` === server && `${p.dst}:${p.dstPort}` === client &&
    p.time >= c.start - 0.01 && p.time <= c.end + 0.01
  );
}

export interface DrFormatOptions {
  /** Connections shown (default 20). */
  maxConnections?: number;
  /** Packets shown per connection (default all). */
  maxPackets?: number;
}

/** Lines for one connection: its client packets before/after the director, its replies. */
function connectionLines(view: DrView, c: Connection, n: number, maxPackets: number): string[] {
  const key = flowKey(c, view.vips);
  const holders = (key && view.holders.get(key)) || [];
  const holder = holders.length === 1 ? holders[0] : null;
  const lines = [
    `connection ${n}: client ${formatEndpoint(c.client)} -> VIP ${formatEndpoint(c.server)}` +
    ` -> ${holder ?? "(no real server answered)"}`,
  ];
  const events: { time: number; lines: string[] }[] = [];
  for (const h of view.path.hops) {
    if (view.connectionOf.get(h.public) !== c) continue;
    const to = h.left ? hostOfMac(view, h.left.dstMac) : "nobody";
    const hopLines = [`  client->${to}  ${describePacket(h.public)}`];
    if (h.arrived) hopLines.push(`    before  ${formatDrFrame(view, h.arrived)}`);
    else hopLines.push("    before  (not seen at the director)");
    hopLines.push(
      h.left ? `    after   ${formatDrFrame(view, h.left)}` : "    after   (not sent on)",
    );
    events.push({ time: h.public.time, lines: hopLines });
  }
  for (const r of repliesOf(view, c, holder)) {
    events.push({
      time: r.time,
      lines: [
        `  ${holder}->client  ${describePacket(r)}  (${holder} -> router -> client, not through ` +
        "the director)",
        `    reply   ${formatDrFrame(view, r)}`,
      ],
    });
  }
  events.sort((a, b) => a.time - b.time);
  const more = events.length > maxPackets
    ? [`  ... and ${events.length - maxPackets} more packets`]
    : [];
  return [...lines, ...events.slice(0, maxPackets).flatMap((e) => e.lines), ...more];
}

/** The first `maxConnections` connections the director forwarded, every packet of each. */
export function formatDrConnections(view: DrView, options: DrFormatOptions = {}): string[] {
  const maxConnections = options.maxConnections ?? 20;
  const maxPackets = options.maxPackets ?? Infinity;
  const conns: Connection[] = [];
  for (const h of view.path.hops) {
    const c = view.connectionOf.get(h.public);
    if (c && !conns.includes(c)) conns.push(c);
  }
  const lines = [macLegend(view)];
  conns.slice(0, maxConnections).forEach((c, i) =>
    lines.push(...connectionLines(view, c, i + 1, maxPackets))
  );
  if (conns.length > maxConnections) {
    lines.push(`... and ${conns.length - maxConnections} more connections (see the pcaps)`);
  }
  return lines;
}
