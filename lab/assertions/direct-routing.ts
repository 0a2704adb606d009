// VS/DR correctness from the captures (lab/analysis/dr-path.ts traces the path): every client
// packet the director took leaves it unchanged but for TTL and checksum, in a frame from the
// director's MAC to the MAC of the real server that holds the connection, and no reply passes
// the director.
import type { Connection } from "../analysis/connections.ts";
import {
  compareDrCopy,
  type DrHop,
  type DrPath,
  type DrRoles,
  traceDirectRouting,
} from "../analysis/dr-path.ts";
import { formatPacket } from "../analysis/format.ts";
import type { Packet } from "../analysis/packet.ts";
import type { HostLink } from "../capture/host-links.ts";
import { type AssertionResult, firstFew, plural, verdict } from "./result.ts";
import { kernelDrops } from "./kernel-drops.ts";
import type { ServiceSpec } from "./service.ts";
import { type BypassView, bypassView, holderOf, holdersOf } from "./bypass-view.ts";

/** What the DR checks read: the traced path and the connections around it. */
export interface DrView extends BypassView {
  roles: DrRoles;
  path: DrPath;
  /** The director's LAN port, every frame. */
  lanPackets: readonly Packet[];
}

/** The director, routers and real servers of one LAN, by MAC; throws without a director. */
export function drRoles(links: readonly HostLink[], network: string): DrRoles {
  const here = links.filter((l) => l.network === network);
  const director = here.find((l) => l.role === "director");
  if (!director) throw new Error(`no director interface on network '${network}' is known`);
  return {
    director: director.mac,
    routers: new Set(here.filter((l) => l.role === "router").map((l) => l.mac)),
    servers: new Map(here.filter((l) => l.role === "realserver").map((l) => [l.mac, l.host])),
  };
}

/** Traces the path and finds each connection's holder. */
export function buildDrView(
  publicPackets: readonly Packet[],
  lanPackets: readonly Packet[],
  serverPackets: ReadonlyMap<string, readonly Packet[]>,
  roles: DrRoles,
  services: readonly ServiceSpec[],
  tunPackets: readonly Packet[] | null = null,
): DrView {
  const base = bypassView(publicPackets, serverPackets, serverPackets, services, tunPackets);
  return {
    ...base,
    roles,
    path: traceDirectRouting(publicPackets, lanPackets, roles, { vips: base.vips }),
    lanPackets,
  };
}

function macName(view: DrView, mac: string | null): string {
  if (mac === null) return "no MAC (not an Ethernet capture)";
  if (mac === view.roles.director) return `${mac} (the director)`;
  if (view.roles.routers.has(mac)) return `${mac} (the router)`;
  const host = view.roles.servers.get(mac);
  return host ? `${mac} (${host})` : `${mac} (no host of the lab)`;
}

/**
 * The hops the director is to forward: those of connections it forwarded anything of, and
 * those to a service's port (a connection to a port without a service is refused by the
 * director itself and is the outcomes assertion's to judge).
 */
function judgedHops(view: DrView): { hops: DrHop[]; refused: number } {
  const forwarded = new Set<Connection>();
  for (const h of view.path.hops) {
    const c = view.connectionOf.get(h.public);
    if (h.left && c) forwarded.add(c);
  }
  const hops: DrHop[] = [];
  let refused = 0;
  for (const h of view.path.hops) {
    const c = view.connectionOf.get(h.public);
    const service = `${h.public.protocol} ${h.public.dst}:${h.public.dstPort}`;
    if ((c && forwarded.has(c)) || view.servicePorts.has(service)) hops.push(h);
    else refused++;
  }
  return { hops, refused };
}

/**
 * Client connections (with their SYN) per real server holding them, of those `which` keeps:
 * what the director's choices were, as the servers' own ports show them.
 */
export function drConnectionsByServer(
  view: Pick<DrView, "vips" | "connectionOf" | "holders"> & {
    roles: { servers: ReadonlyMap<string, string> };
  },
  which: (c: Connection) => boolean,
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const host of view.roles.servers.values()) counts[host] = 0;
  const seen = new Set<Connection>();
  for (const c of view.connectionOf.values()) {
    if (seen.has(c)) continue;
    seen.add(c);
    if ((c.protocol === "tcp" && c.clientIsn === null) || !view.vips.has(c.server.addr)) continue;
    if (!which(c)) continue;
    const holder = holderOf(view, c);
    if (holder) counts[holder]++;
  }
  return counts;
}

/**
 * PASS when every client packet to the VIP on the client network reached the director's
 * LAN port (destination MAC the director's) and left it again (source MAC the director's).
 */
export function assertDrForwarded(view: DrView): AssertionResult {
  const name = "the director forwards every client packet (VS/DR)";
  const { hops, refused } = judgedHops(view);
  const notArrived = hops.filter((h) => !h.arrived);
  const notForwarded = hops.filter((h) => h.arrived && !h.left);
  const { dropped: kernelDropped, excused } = kernelDrops(
    view.tunPackets,
    hops.length,
    notForwarded,
  );
  const notLeft = excused ? [] : notForwarded;
  const matched = hops.length - notArrived.length - notForwarded.length;
  const data = {
    matched,
    unmatched: notArrived.length + notLeft.length,
    refused,
    droppedBeforeTun: kernelDropped.length,
  };
  const asides = [
    refused
      ? `${plural(refused, "packet")} to ports without a service, refused by the director`
      : "",
    excused && kernelDropped.length
      ? `${plural(kernelDropped.length, "packet")} the director host's kernel dropped before ` +
        `lvslab's TUN device had it (not in its capture; first: ${
          formatPacket(kernelDropped[0].public)
        })`
      : "",
  ].filter(Boolean);
  const aside = asides.length ? ` (${asides.join("; ")}: left aside)` : "";
  if (hops.length === 0) {
    return verdict(name, false, "no client packet to the VIP was captured", [], data);
  }
  if (data.unmatched === 0) {
    return verdict(
      name,
      true,
      `each of the ${plural(hops.length, "client packet")} to the VIP on the client network ` +
        `reached the director on the LAN and left it again towards a real server${aside}`,
      [],
      data,
    );
  }
  const problems: string[] = [];
  if (notArrived.length) {
    problems.push(
      `${notArrived.length} never reached the director's LAN port (first: ` +
        `${formatPacket(notArrived[0].public)})`,
    );
  }
  if (notLeft.length) {
    problems.push(
      `${notLeft.length} reached the director but did not leave it (first: ` +
        `${formatPacket(notLeft[0].public)}; ${kernelDropped.length} of them never reached ` +
        `lvslab's TUN device${view.tunPackets === null ? ", which was not captured" : ""})`,
    );
  }
  return verdict(
    name,
    false,
    `of ${plural(hops.length, "client packet")} to the VIP, ${problems.join("; ")}${aside}`,
    [
      ...firstFew(notArrived.map((h) => `not at the director: ${formatPacket(h.public)}`)),
      ...firstFew(notLeft.map((h) => `not forwarded: ${formatPacket(h.public)}`)),
    ],
    data,
  );
}

/** What is wrong with one forwarded frame, or null. */
function frameFault(view: DrView, h: DrHop, holder: string | null): string | null {
  const left = h.left!;
  if (left.srcMac !== view.roles.director) {
    return `it left from ${macName(view, left.srcMac)}, not from the director's MAC`;
  }
  const to = left.dstMac === null ? undefined : view.roles.servers.get(left.dstMac);
  if (!to) return `it went to ${macName(view, left.dstMac)}, which is no real server's`;
  if (holder && to !== holder) {
    return `it went to ${to} (${left.dstMac}), but ${holder} holds the connection (its port ` +
      "shows the replies)";
  }
  const changed = compareDrCopy(h.arrived!, left);
  return changed ? `the director changed it: ${changed}` : null;
}

/** Problems of one connection as a whole: who holds it, one server for all its frames. */
function connectionFault(view: DrView, c: Connection, hops: DrHop[]): string | null {
  const holders = holdersOf(view, c);
  const targets = new Set(hops.map((h) => view.roles.servers.get(h.left!.dstMac ?? "") ?? "?"));
  const who = `${c.client.addr}:${c.client.port} -> ${c.server.addr}:${c.server.port}`;
  if (holders.length > 1) return `${who}: answered by ${holders.join(" and ")}`;
  if (targets.size > 1) return `${who}: its frames went to ${[...targets].join(" and ")}`;
  if (holders.length === 0 && c.outcome === "accepted") {
    return `${who}: accepted, yet no real server's own port shows it answering`;
  }
  return null;
}

/**
 * PASS when every frame the director sent on comes from its MAC and goes to the MAC of the
 * real server that holds the connection (the one whose own port shows its replies), every
 * connection's frames to one server, and each copy is the packet the director received
 * byte for byte but for TTL (one less) and a header checksum that verifies.
 */
export function assertDrFrames(view: DrView): AssertionResult {
  const name = "frames from the director: the client's packet, to the real server's MAC";
  const forwarded = judgedHops(view).hops.filter((h) => h.left);
  const byConn = new Map<Connection, DrHop[]>();
  for (const h of forwarded) {
    const c = view.connectionOf.get(h.public);
    if (c) byConn.set(c, [...(byConn.get(c) ?? []), h]);
  }
  const wrong: string[] = [];
  const perServer = new Map<string, number>();
  for (const [c, hops] of byConn) {
    const fault = connectionFault(view, c, hops);
    if (fault) wrong.push(fault);
    const holder = holderOf(view, c);
    if (holder) perServer.set(holder, (perServer.get(holder) ?? 0) + 1);
    for (const h of hops) {
      const f = frameFault(view, h, holder);
      if (f) wrong.push(`${formatPacket(h.left!)} (director's port): ${f}`);
    }
  }
  for (const p of view.path.strayLeft) {
    wrong.push(`${formatPacket(p)} (director's port): sent, but no client packet of it was seen`);
  }
  const servers = [...perServer].sort().map(([h, n]) => `${h}: ${plural(n, "connection")}`);
  const data = {
    frames: forwarded.length,
    connections: byConn.size,
    wrong: wrong.length,
    perServer: Object.fromEntries(perServer),
  };
  if (forwarded.length === 0) {
    return verdict(name, false, "no frame forwarded by the director was captured", [], data);
  }
  if (wrong.length === 0) {
    return verdict(
      name,
      true,
      `all ${plural(forwarded.length, "frame")} of ${plural(byConn.size, "connection")} left ` +
        "the director from its MAC to the MAC of the real server holding the connection, " +
        "the client's packet byte for byte but for TTL (one less) and a valid header checksum",
      servers,
      data,
    );
  }
  return verdict(
    name,
    false,
    `${plural(wrong.length, "problem")} with ${plural(forwarded.length, "forwarded frame")} ` +
      `(first: ${wrong[0]})`,
    [...firstFew(wrong), ...servers],
    data,
  );
}

/**
 * PASS when no reply passes the director: on its LAN port, no frame from a real server's MAC
 * to the director's, and no frame leaving the director from VIP:port to a client whose
 * connection it forwarded. Frames the bridge flooded past the director (to another MAC)
 * are named in the details, not counted.
 */
export function assertNoReplyThroughDirector(view: DrView): AssertionResult {
  const name = "replies bypass the director (VS/DR)";
  const { director, servers } = view.roles;
  const forwarded = new Set<string>();
  for (const h of view.path.hops) {
    if (h.left) {
      forwarded.add(`${h.public.src}:${h.public.srcPort} ${h.public.dst}:${h.public.dstPort}`);
    }
  }
  const through: string[] = [];
  const flooded: string[] = [];
  for (const p of view.lanPackets) {
    const fromServer = p.srcMac !== null && servers.has(p.srcMac);
    if (fromServer && p.dstMac === director) {
      through.push(`${formatPacket(p)}: from ${servers.get(p.srcMac!)} to the director`);
    } else if (fromServer) {
      flooded.push(`${formatPacket(p)}: flooded by the bridge (to ${macName(view, p.dstMac)})`);
    } else if (
      p.srcMac === director && view.vips.has(p.src) &&
      forwarded.has(`${p.dst}:${p.dstPort} ${p.src}:${p.srcPort}`)
    ) {
      through.push(`${formatPacket(p)}: a reply leaving the director`);
    }
  }
  const data = {
    lanFrames: view.lanPackets.length,
    through: through.length,
    flooded: flooded.length,
  };
  if (view.lanPackets.length === 0) {
    return verdict(name, false, "nothing was captured on the director's LAN port", [], data);
  }
  if (through.length === 0) {
    return verdict(
      name,
      true,
      `none of the ${plural(view.lanPackets.length, "frame")} on the director's LAN port is a ` +
        "reply passing the director (none from a real server to it, no VIP reply leaving it)",
      firstFew(flooded, 3),
      data,
    );
  }
  return verdict(
    name,
    false,
    `${plural(through.length, "reply frame")} passed the director (first: ${through[0]})`,
    [...firstFew(through), ...firstFew(flooded, 3)],
    data,
  );
}
