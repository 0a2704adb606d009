// Per-connection assertions: one connection stays with one real server; connections to a
// virtual port end up accepted, refused or dropped as many times as expected.
import type { Connection, Outcome } from "../analysis/connections.ts";
import { formatPacket } from "../analysis/format.ts";
import { endpoint, type Packet, TCP_ACK, TCP_RST, TCP_SYN } from "../analysis/packet.ts";
import { type AssertionResult, firstFew, plural, verdict } from "./result.ts";
import { serviceName, type ServiceSpec } from "./service.ts";

interface Session {
  isn: number | null;
  server: string;
  first: Packet;
  split: boolean;
  /** A RST was seen: the director's entry is in CLOSE, and a SYN after it is a new connection. */
  reset: boolean;
}

/**
 * PASS when, on the private network, every client connection of the service (client
 * address:port, and for TCP the SYN's initial sequence number) reaches a single real server.
 * A SYN after a RST starts a new connection even with the same sequence number: IPVS
 * schedules anew a SYN that finds its entry in CLOSE (conn_reuse_mode), which is what
 * happens when a real server still in TIME_WAIT for the same client port (left by another
 * virtual service sharing it) answers a SYN with an ACK, the client resets, and retries.
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
  let retriedAfterReset = 0;
  for (const p of privatePackets) {
    if (p.protocol !== service.protocol || p.srcPort === null) continue;
    const src = endpoint(p.src, p.srcPort);
    const dst = endpoint(p.dst, p.dstPort);
    // Client→server packets name the server in their destination, replies in their source.
    const [client, server] = servers.has(dst) ? [src, dst] : servers.has(src) ? [dst, src] : [];
    if (!client || !server) continue;
    const syn = p.tcp !== null && (p.tcp.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
    let s = current.get(client);
    const clientSyn = syn && client === src;
    if (!s || (clientSyn && (s.reset || (s.isn !== null && s.isn !== p.tcp!.seq)))) {
      if (s?.reset && s.isn === p.tcp!.seq) retriedAfterReset++;
      s = { isn: syn ? p.tcp!.seq : null, server, first: p, split: false, reset: false };
      current.set(client, s);
      sessions.push(s);
    } else if (clientSyn && s.isn === null) {
      s.isn = p.tcp!.seq;
    }
    if (p.tcp !== null && (p.tcp.flags & TCP_RST) !== 0) s.reset = true;
    if (s.server !== server && !s.split) {
      s.split = true;
      splits.push(
        `client ${client} reached ${s.server} (${formatPacket(s.first)}) and ${server} ` +
          `(${formatPacket(p)})`,
      );
    }
  }
  const data = { connections: sessions.length, split: splits.length, retriedAfterReset };
  const retries = retriedAfterReset === 0
    ? ""
    : ` (${plural(retriedAfterReset, "SYN")} retried after a reset ${
      retriedAfterReset === 1 ? "was" : "were"
    } scheduled anew, as IPVS does for an entry in CLOSE)`;
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
      `each of the ${
        plural(sessions.length, "connection")
      } of ${vip} stayed with one real server${retries}`,
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
