// Per-connection assertions: one connection stays with one real server; connections to a
// virtual port end up accepted, refused or dropped as many times as expected.
import type { Connection, Outcome } from "../analysis/connections.ts";
import { formatPacket } from "../analysis/format.ts";
import { endpoint, type Packet, TCP_ACK, TCP_SYN } from "../analysis/packet.ts";
import { type AssertionResult, firstFew, plural, verdict } from "./result.ts";
import { serviceName, type ServiceSpec } from "./service.ts";

interface Session {
  isn: number | null;
  server: string;
  first: Packet;
  split: boolean;
}

/**
 * PASS when, on the private network, every client connection of the service (client
 * address:port, and for TCP the SYN's initial sequence number) reaches a single real server.
 */
export function assertOneServerPerConnection(
  privatePackets: readonly Packet[],
  service: ServiceSpec,
  options: { name?: string } = {},
): AssertionResult {
  const vip = serviceName(service);
  const name = options.name ?? `one connection, one real server (${vip})`;
  const servers = new Set(service.servers);
  const current = new Map<string, Session>();
  const sessions: Session[] = [];
  const splits: string[] = [];
  for (const p of privatePackets) {
    if (p.protocol !== service.protocol || p.srcPort === null) continue;
    const src = endpoint(p.src, p.srcPort);
    const dst = endpoint(p.dst, p.dstPort);
    // Client→server packets name the server in their destination, replies in their source.
    const [client, server] = servers.has(dst) ? [src, dst] : servers.has(src) ? [dst, src] : [];
    if (!client || !server) continue;
    const syn = p.tcp !== null && (p.tcp.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
    let s = current.get(client);
    if (!s || (syn && client === src && s.isn !== null && s.isn !== p.tcp!.seq)) {
      s = { isn: syn ? p.tcp!.seq : null, server, first: p, split: false };
      current.set(client, s);
      sessions.push(s);
    } else if (syn && client === src && s.isn === null) {
      s.isn = p.tcp!.seq;
    }
    if (s.server !== server && !s.split) {
      s.split = true;
      splits.push(
        `client ${client} reached ${s.server} (${formatPacket(s.first)}) and ${server} ` +
          `(${formatPacket(p)})`,
      );
    }
  }
  const data = { connections: sessions.length, split: splits.length };
  if (sessions.length === 0) {
    return verdict(
      name,
      false,
      `no connections of ${vip} were seen on the private network`,
      [],
      data,
    );
  }
  if (splits.length === 0) {
    return verdict(
      name,
      true,
      `each of the ${plural(sessions.length, "connection")} of ${vip} stayed with one real server`,
      [],
      data,
    );
  }
  return verdict(
    name,
    false,
    `${plural(splits.length, "connection was", "connections were")} split across real servers ` +
      `(first: ${splits[0]})`,
    firstFew(splits),
    data,
  );
}

export type CountExpectation = number | { min?: number; max?: number };

export interface OutcomeExpectation {
  protocol: "tcp" | "udp";
  vip: string;
  port: number;
  /** Expected counts; outcomes left out are not checked. */
  expected: Partial<Record<Outcome, CountExpectation>>;
  name?: string;
}

function meets(n: number, e: CountExpectation): boolean {
  return typeof e === "number" ? n === e : n >= (e.min ?? 0) && n <= (e.max ?? Infinity);
}

function describe(e: CountExpectation): string {
  if (typeof e === "number") return String(e);
  if (e.max === undefined) return `at least ${e.min ?? 0}`;
  if (e.min === undefined || e.min === 0) return `at most ${e.max}`;
  return `${e.min} to ${e.max}`;
}

/**
 * Outcomes of the connections (from the client network's capture, grouped with
 * groupConnections) to VIP:port compared with the expected counts.
 */
export function assertOutcomes(
  connections: readonly Connection[],
  e: OutcomeExpectation,
): AssertionResult {
  const vip = `${e.vip}:${e.port}`;
  const name = e.name ?? `outcomes of connections to ${vip}`;
  const mine = connections.filter((c) =>
    c.protocol === e.protocol && c.server.addr === e.vip && c.server.port === e.port
  );
  const counts: Record<Outcome, number> = { accepted: 0, refused: 0, dropped: 0, unknown: 0 };
  for (const c of mine) counts[c.outcome]++;
  const got = (Object.keys(counts) as Outcome[])
    .filter((o) => counts[o] > 0 || o in e.expected)
    .map((o) => `${counts[o]} ${o}`)
    .join(", ");
  const misses = (Object.entries(e.expected) as [Outcome, CountExpectation][])
    .filter(([o, want]) => !meets(counts[o], want))
    .map(([o, want]) => `expected ${describe(want)} ${o}, got ${counts[o]}`);
  const examples = (Object.keys(counts) as Outcome[]).flatMap((o) => {
    const c = mine.find((x) => x.outcome === o);
    return c ? [`${o}: ${c.client.addr}:${c.client.port} (${c.outcomeReason})`] : [];
  });
  const data = { connections: mine.length, counts, expected: e.expected };
  if (misses.length === 0) {
    return verdict(
      name,
      true,
      `${plural(mine.length, "connection")} to ${vip}: ${got || "none"}, as expected`,
      examples,
      data,
    );
  }
  return verdict(
    name,
    false,
    `${plural(mine.length, "connection")} to ${vip}: ${got || "none"}; ${misses.join("; ")}`,
    examples,
    data,
  );
}
