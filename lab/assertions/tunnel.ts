// VS/TUN correctness from the captures (lab/analysis/tun-path.ts traces the path): every
// client packet the director took leaves it inside a tunnel packet from the director to the
// real server holding the connection, with the outer header IPVS writes and the client's
// packet inside, unchanged but for TTL and checksums; and no reply passes the director.
import type { Connection } from "../analysis/connections.ts";
import { formatPacket } from "../analysis/format.ts";
import type { Packet } from "../analysis/packet.ts";
import { innerFault, type OuterExpectation, outerFault } from "../analysis/tun-compare.ts";
import { traceTunnel, type TunHop, type TunPath, type TunRoles } from "../analysis/tun-path.ts";
import { decodeTunnel, type TunnelPacket, type TunnelType } from "../analysis/tunnel-decode.ts";
import type { HostLink } from "../capture/host-links.ts";
import { tunnelIcmpErrors, undeliverableCheck } from "../analysis/tunnel-icmp.ts";
import { type AssertionResult, firstFew, plural, verdict } from "./result.ts";
import { kernelDrops } from "./kernel-drops.ts";
import type { ServiceSpec } from "./service.ts";
import { type BypassView, bypassView, holderOf, holdersOf } from "./bypass-view.ts";

/** What the TUN checks read: the traced path and the connections around it. */
export interface TunView extends BypassView {
  roles: TunRoles;
  path: TunPath;
  /** The director's own network port, every packet. */
  directorPackets: readonly Packet[];
  /**
   * Whether a router said it could not forward the tunnel packet (an ICMP error to the
   * director, lab/analysis/tunnel-icmp.ts): not seen at the server's port, and rightly so.
   */
  undeliverable: (outer: Packet) => boolean;
}

/** The director's address and the real servers' addresses; throws without a director. */
export function tunRoles(links: readonly HostLink[]): TunRoles {
  const director = links.find((l) => l.role === "director");
  if (!director) throw new Error("no director interface is known (host-links.json)");
  return {
    director: director.address,
    servers: new Map(
      links.filter((l) => l.role === "realserver").map((l) => [l.address, l.host]),
    ),
  };
}

/**
 * Each server's packets with the director's tunnel packets replaced by their inner ones: the
 * server's own port then shows whole connections (the client's SYN inside its tunnel).
 */
function unwrapped(
  serverPackets: ReadonlyMap<string, readonly Packet[]>,
  director: string,
): Map<string, Packet[]> {
  const out = new Map<string, Packet[]>();
  for (const [host, packets] of serverPackets) {
    out.set(
      host,
      packets.map((p) => (p.src === director && decodeTunnel(p, director)?.inner) || p),
    );
  }
  return out;
}

/** Traces the path and finds each connection's holder. */
export function buildTunView(
  publicPackets: readonly Packet[],
  directorPackets: readonly Packet[],
  serverPackets: ReadonlyMap<string, readonly Packet[]>,
  roles: TunRoles,
  services: readonly ServiceSpec[],
  tunPackets: readonly Packet[] | null = null,
): TunView {
  // The servers' replies are what they send themselves, not the tunnel packets they get.
  const replies = unwrapped(serverPackets, roles.director);
  const base = bypassView(publicPackets, serverPackets, replies, services, tunPackets);
  return {
    ...base,
    roles,
    path: traceTunnel(publicPackets, directorPackets, serverPackets, roles, { vips: base.vips }),
    directorPackets,
    undeliverable: undeliverableCheck(tunnelIcmpErrors(directorPackets, roles.director)),
  };
}

/** Which hops a check looks at: by time (steps' windows) and by holding server. */
export interface TunFilter {
  /** Client packet time (seconds) → whether it is judged; all when absent. */
  when?: (time: number) => boolean;
  /** Host names of the servers whose connections are judged; all when absent. */
  servers?: ReadonlySet<string>;
  /**
   * The client packet's destination port → whether it is judged (one service's tunnel of a
   * server reached by several); all when absent.
   */
  vport?: (port: number) => boolean;
}

/**
 * The hops the director is to forward: those of connections it forwarded anything of, and
 * those to a service's port (a connection to a port without a service is refused by the
 * director itself), within the filter.
 */
function judgedHops(view: TunView, filter: TunFilter): { hops: TunHop[]; refused: number } {
  const forwarded = new Set<Connection>();
  for (const h of view.path.hops) {
    const c = view.connectionOf.get(h.public);
    if (h.left.length && c) forwarded.add(c);
  }
  const hops: TunHop[] = [];
  let refused = 0;
  for (const h of view.path.hops) {
    if (filter.when && !filter.when(h.public.time)) continue;
    if (filter.vport && !filter.vport(h.public.dstPort ?? 0)) continue;
    const c = view.connectionOf.get(h.public);
    if (filter.servers) {
      const holder = holderOf(view, c) ?? view.roles.servers.get(h.left[0]?.outer.dst ?? "");
      if (!holder || !filter.servers.has(holder)) continue;
    }
    const service = `${h.public.protocol} ${h.public.dst}:${h.public.dstPort}`;
    if ((c && forwarded.has(c)) || view.servicePorts.has(service)) hops.push(h);
    else refused++;
  }
  return { hops, refused };
}

/** PASS when every judged client packet reached the director and left it in a tunnel. */
export function assertTunForwarded(view: TunView, filter: TunFilter = {}): AssertionResult {
  const name = "the director tunnels every client packet (VS/TUN)";
  const { hops, refused } = judgedHops(view, filter);
  const notArrived = hops.filter((h) => !h.arrived);
  // Too big for the tunnel with DF: answered with fragmentation needed, rightly not sent.
  const tooBig = hops.filter((h) => h.tooBig).length;
  const notTunnelled = hops.filter((h) => h.arrived && h.left.length === 0 && !h.tooBig);
  const { dropped, excused } = kernelDrops(view.tunPackets, hops.length, notTunnelled);
  const notLeft = excused ? [] : notTunnelled;
  const matched = hops.length - notArrived.length - notTunnelled.length - tooBig;
  const data = {
    matched,
    unmatched: notArrived.length + notLeft.length,
    refused,
    tooBig,
    droppedBeforeTun: dropped.length,
  };
  if (hops.length === 0) {
    return verdict(name, false, "no client packet to the VIP was captured", [], data);
  }
  const aside =
    (refused ? ` (${plural(refused, "packet")} to ports without a service left aside)` : "") +
    (tooBig
      ? ` (${plural(tooBig, "packet")} too big for the tunnel answered with fragmentation needed)`
      : "") +
    (excused && dropped.length
      ? ` (${plural(dropped.length, "packet")} the director host's kernel dropped before ` +
        `lvslab's TUN device had it, left aside; first: ${formatPacket(dropped[0].public)})`
      : "");
  if (data.unmatched === 0) {
    return verdict(
      name,
      true,
      `each of the ${plural(hops.length, "client packet")} to the VIP reached the director ` +
        `and left it inside a tunnel packet${aside}`,
      [],
      data,
    );
  }
  const lines = [
    ...notArrived.map((h) => `not at the director: ${formatPacket(h.public)}`),
    ...notLeft.map((h) => `not tunnelled: ${formatPacket(h.public)}`),
  ];
  return verdict(
    name,
    false,
    `of ${plural(hops.length, "client packet")} to the VIP, ${notArrived.length} never reached ` +
      `the director and ${notLeft.length} did not leave it in a tunnel (first: ${lines[0]})` +
      aside,
    firstFew(lines),
    data,
  );
}

/** The tunnel a server is to get: its type, GUE port, and whether a checksum is in it. */
export interface TunnelExpectation {
  type: TunnelType;
  port?: number;
  /**
   * GRE: the C bit and its checksum (--tun-csum) present or absent; GUE: a UDP checksum
   * (--tun-csum, --tun-remcsum) or zero. Either, when absent.
   */
  checksum?: boolean;
}

/** How messages name an expectation: "GRE with checksum", "GUE (UDP 6080)". */
export function expectationName(want: TunnelExpectation): string {
  const kind = want.type === "gue"
    ? `GUE (UDP ${want.port ?? "any port"})`
    : want.type.toUpperCase();
  return want.checksum === undefined
    ? kind
    : `${kind} ${want.checksum ? "with" : "without"} ${want.type === "gue" ? "UDP " : ""}checksum`;
}

function tunnelName(t: TunnelPacket): string {
  return `${formatPacket(t.outer)} [inner ${formatPacket(t.inner!)}]`;
}

/** Problems of one hop's tunnel packets: outer headers, inner bytes, arrival at the server. */
function hopFaults(view: TunView, h: TunHop, holder: string | null, want: TunnelExpectation) {
  const faults: string[] = [];
  const holderAddr = holder
    ? [...view.roles.servers].find(([, host]) => host === holder)?.[0] ?? null
    : null;
  const expect: OuterExpectation = {
    director: view.roles.director,
    server: holderAddr,
    servers: view.roles.servers,
    ...want,
  };
  for (const [i, t] of h.left.entries()) {
    const f = outerFault(t, expect);
    if (f) faults.push(`${tunnelName(t)}: ${f}`);
    const at = h.delivered[i];
    if (!at) {
      if (view.undeliverable(t.outer)) continue;
      faults.push(`${tunnelName(t)}: not seen on ${hostName(view, t.outer.dst)}'s own port`);
    } else if (!sameBytes(at.inner!.ipBytes, t.inner!.ipBytes)) {
      faults.push(`${tunnelName(t)}: its inner packet changed between the director and the server`);
    }
  }
  const changed = innerFault(h.arrived!, h.left);
  if (changed) faults.push(`${tunnelName(h.left[0])}: the director changed it: ${changed}`);
  return faults;
}

function hostName(view: TunView, addr: string): string {
  return view.roles.servers.get(addr) ?? addr;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** One server per connection, and a holder for an accepted one. */
function connectionFault(view: TunView, c: Connection, hops: TunHop[]): string | null {
  const holders = holdersOf(view, c);
  const targets = new Set(hops.flatMap((h) => h.left.map((t) => hostName(view, t.outer.dst))));
  const who = `${c.client.addr}:${c.client.port} -> ${c.server.addr}:${c.server.port}`;
  if (holders.length > 1) return `${who}: answered by ${holders.join(" and ")}`;
  if (targets.size > 1) return `${who}: its tunnel packets went to ${[...targets].join(" and ")}`;
  if (holders.length === 0 && c.outcome === "accepted") {
    return `${who}: accepted, yet no real server's own port shows it answering`;
  }
  return null;
}

/**
 * PASS when every tunnel packet the director sent has IPVS's outer header (`want`), goes to
 * the real server holding the connection and arrives at its port, and carries the client's
 * packet (or its segments) unchanged but for TTL (one less) and checksums.
 */
export function assertTunPackets(
  view: TunView,
  want: TunnelExpectation,
  filter: TunFilter = {},
): AssertionResult {
  const kind = expectationName(want);
  const name = `tunnel packets from the director: ${kind}, the client's packet inside`;
  const forwarded = judgedHops(view, filter).hops.filter((h) => h.arrived && h.left.length);
  const byConn = new Map<Connection, TunHop[]>();
  for (const h of forwarded) {
    const c = view.connectionOf.get(h.public);
    if (c) byConn.set(c, [...(byConn.get(c) ?? []), h]);
  }
  const wrong: string[] = [];
  const perServer = new Map<string, number>();
  let packets = 0;
  for (const [c, hops] of byConn) {
    const fault = connectionFault(view, c, hops);
    if (fault) wrong.push(fault);
    const holder = holderOf(view, c);
    if (holder) perServer.set(holder, (perServer.get(holder) ?? 0) + 1);
    for (const h of hops) {
      packets += h.left.length;
      wrong.push(...hopFaults(view, h, holder, want));
    }
  }
  // A tunnel packet whose client packet the capture did not hold: a capture that lost
  // packets explains it (the caller may excuse these, never the faults above).
  const faults = wrong.length;
  for (const t of view.path.strayLeft) {
    if (filter.when && !filter.when(t.outer.time)) continue;
    const host = view.roles.servers.get(t.outer.dst);
    if (filter.servers && (!host || !filter.servers.has(host))) continue;
    if (filter.vport && t.inner && !filter.vport(t.inner.dstPort ?? 0)) continue;
    wrong.push(`${tunnelName(t)}: sent, but no client packet of it was seen`);
  }
  const servers = [...perServer].sort().map(([h, n]) => `${h}: ${plural(n, "connection")}`);
  const data = {
    packets,
    connections: byConn.size,
    wrong: wrong.length,
    faults,
    matched: packets,
    unmatched: wrong.length - faults,
  };
  if (packets === 0) {
    return verdict(name, false, "no tunnel packet from the director was captured", [], data);
  }
  if (wrong.length === 0) {
    return verdict(
      name,
      true,
      `all ${plural(packets, "tunnel packet")} of ${plural(byConn.size, "connection")} went ` +
        `from the director to the real server holding the connection as ${kind}, outer TTL, ` +
        "TOS and DF from the inner packet, which is the client's byte for byte but for TTL " +
        "(one less) and valid checksums",
      servers,
      data,
    );
  }
  return verdict(
    name,
    false,
    `${plural(wrong.length, "problem")} with ${plural(packets, "tunnel packet")} (first: ` +
      `${wrong[0]})`,
    [...firstFew(wrong), ...servers],
    data,
  );
}

/**
 * PASS when no reply passes the director: on its port no packet from a VIP to a client of a
 * forwarded connection (ICMP errors the director itself sends, like fragmentation needed,
 * aside), none from a real server's address, and no tunnel packet carrying a VIP reply.
 */
export function assertNoReplyThroughTunDirector(view: TunView): AssertionResult {
  const name = "replies bypass the director (VS/TUN)";
  const forwarded = new Set<string>();
  for (const h of view.path.hops) {
    if (h.left.length) {
      forwarded.add(`${h.public.src}:${h.public.srcPort} ${h.public.dst}:${h.public.dstPort}`);
    }
  }
  const isReply = (p: Packet) =>
    view.vips.has(p.src) && p.protocol !== "icmp" &&
    forwarded.has(`${p.dst}:${p.dstPort} ${p.src}:${p.srcPort}`);
  const through: string[] = [];
  for (const p of view.directorPackets) {
    if (isReply(p)) through.push(`${formatPacket(p)}: a VIP reply at the director`);
    else if (view.roles.servers.has(p.src)) {
      through.push(`${formatPacket(p)}: from ${hostName(view, p.src)} to the director's network`);
    }
  }
  for (const t of view.path.tunnels) {
    if (isReply(t.inner!)) through.push(`${tunnelName(t)}: a VIP reply inside a tunnel`);
  }
  const data = { directorPackets: view.directorPackets.length, through: through.length };
  if (view.directorPackets.length === 0) {
    return verdict(name, false, "nothing was captured on the director's port", [], data);
  }
  if (through.length === 0) {
    return verdict(
      name,
      true,
      `none of the ${plural(view.directorPackets.length, "packet")} on the director's port is ` +
        "a reply (none from a real server, no VIP reply to a client of a tunnelled connection)",
      [],
      data,
    );
  }
  return verdict(
    name,
    false,
    `${plural(through.length, "reply packet")} passed the director (first: ${through[0]})`,
    firstFew(through),
    data,
  );
}
