// The shape both VS/DR's and VS/TUN's packet listings share (./dr-pairs.ts, ./tun-pairs.ts):
// connection by connection, each client packet as the director got it and as it sent it on,
// and each reply as the real server sent it straight to the router, in time order. What a hop
// looks like (a frame with MACs, a tunnel packet) is the method's; the rest is here.
import { type Connection, formatEndpoint } from "../analysis/connections.ts";
import { describePacket } from "../analysis/format.ts";
import type { Packet } from "../analysis/packet.ts";
import { type BypassView, holderOf } from "../assertions/bypass-view.ts";

export interface BypassFormatOptions {
  /** Connections shown (default 20). */
  maxConnections?: number;
  /** Packets shown per connection (default all). */
  maxPackets?: number;
}

/** How one method shows its hops and replies. */
export interface BypassListing<H> {
  view: BypassView;
  hops: readonly H[];
  /** The hop's client packet on the client network. */
  publicOf(hop: H): Packet;
  /** Where the director sent the hop ("rs2", "nobody"). */
  targetOf(hop: H): string;
  /** The hop's "before" and "after" lines. */
  hopLines(hop: H): string[];
  /** A reply's header line. */
  replyLine(reply: Packet): string;
  /** The first line: who is who. */
  legend: string;
}

/** A connection's replies as its real server sent them, on the server's own port. */
function repliesOf(view: BypassView, c: Connection, holder: string | null): Packet[] {
  if (!holder) return [];
  const client = formatEndpoint(c.client);
  const server = formatEndpoint(c.server);
  return (view.serverPackets.get(holder) ?? []).filter((p) =>
    `${p.src}:${p.srcPort}` === server && `${p.dst}:${p.dstPort}` === client &&
    p.time >= c.start - 0.01 && p.time <= c.end + 0.01
  );
}

/** Lines for one connection: its client packets before/after the director, its replies. */
function connectionLines<H>(
  l: BypassListing<H>,
  c: Connection,
  n: number,
  maxPackets: number,
): string[] {
  const holder = holderOf(l.view, c);
  const lines = [
    `connection ${n}: client ${formatEndpoint(c.client)} -> VIP ${formatEndpoint(c.server)}` +
    ` -> ${holder ?? "(no real server answered)"}`,
  ];
  const events: { time: number; lines: string[] }[] = [];
  for (const h of l.hops) {
    const pub = l.publicOf(h);
    if (l.view.connectionOf.get(pub) !== c) continue;
    events.push({
      time: pub.time,
      lines: [`  client->${l.targetOf(h)}  ${describePacket(pub)}`, ...l.hopLines(h)],
    });
  }
  for (const r of repliesOf(l.view, c, holder)) {
    events.push({
      time: r.time,
      lines: [
        `  ${holder}->client  ${describePacket(r)}  (${holder} -> router -> client, not through ` +
        "the director)",
        `    reply   ${l.replyLine(r)}`,
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
export function formatBypassConnections<H>(
  l: BypassListing<H>,
  options: BypassFormatOptions = {},
): string[] {
  const maxConnections = options.maxConnections ?? 20;
  const maxPackets = options.maxPackets ?? Infinity;
  const conns: Connection[] = [];
  for (const h of l.hops) {
    const c = l.view.connectionOf.get(l.publicOf(h));
    if (c && !conns.includes(c)) conns.push(c);
  }
  const lines = [l.legend];
  conns.slice(0, maxConnections).forEach((c, i) =>
    lines.push(...connectionLines(l, c, i + 1, maxPackets))
  );
  if (conns.length > maxConnections) {
    lines.push(`... and ${conns.length - maxConnections} more connections (see the pcaps)`);
  }
  return lines;
}
