// Groups packets into connections (TCP and UDP, both directions together, identified by the
// client side) and says how each one ended up: accepted, refused, dropped.
import { type Packet, type Protocol, TCP_ACK, TCP_RST, TCP_SYN } from "./packet.ts";

export type Outcome = "accepted" | "refused" | "dropped" | "unknown";

export interface Endpoint {
  addr: string;
  port: number;
}

export interface Connection {
  /** Position in the returned list, from 0. */
  id: number;
  protocol: Protocol;
  client: Endpoint;
  server: Endpoint;
  /** Packets of both directions, in capture order. */
  packets: Packet[];
  /** ICMP errors whose quoted header belongs to this connection. */
  icmpErrors: Packet[];
  start: number;
  end: number;
  /** TCP: sequence number of the client's SYN, null when no SYN was captured. */
  clientIsn: number | null;
  outcome: Outcome;
  /** Why the outcome was chosen, in words. */
  outcomeReason: string;
}

/** "addr:port". */
export function formatEndpoint(e: Endpoint): string {
  return `${e.addr}:${e.port}`;
}

const isSyn = (p: Packet) => p.tcp !== null && (p.tcp.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
const isSynAck = (p: Packet) =>
  p.tcp !== null && (p.tcp.flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK);

function tupleKey(proto: string, a: string, ap: number, b: string, bp: number): string {
  // Both directions give the same key: order the two endpoints.
  const x = `${a}:${ap}`;
  const y = `${b}:${bp}`;
  return x < y ? `${proto} ${x} ${y}` : `${proto} ${y} ${x}`;
}

function fromClient(c: Connection, p: Packet): boolean {
  return p.src === c.client.addr && p.srcPort === c.client.port;
}

function decideOutcome(c: Connection): void {
  const refusedByIcmp = c.icmpErrors.find((e) => e.icmp!.type === 3);
  if (c.protocol === "udp") {
    if (c.packets.some((p) => !fromClient(c, p))) {
      c.outcome = "accepted";
      c.outcomeReason = "the server answered";
    } else if (refusedByIcmp) {
      c.outcome = "refused";
      c.outcomeReason = `ICMP unreachable (code ${
        refusedByIcmp.icmp!.code
      }) in #${refusedByIcmp.index}`;
    } else {
      c.outcome = "dropped";
      c.outcomeReason = "no answer";
    }
    return;
  }
  let synAck: Packet | null = null;
  let handshakeDone = false;
  let refusedBy: Packet | null = null;
  let clientReset = false;
  for (const p of c.packets) {
    const flags = p.tcp?.flags ?? 0;
    if (fromClient(c, p)) {
      if (flags & TCP_RST) clientReset = true;
      else if (synAck && !handshakeDone && flags & TCP_ACK && !(flags & TCP_SYN)) {
        handshakeDone = true;
      }
    } else if (isSynAck(p)) {
      synAck ??= p;
    } else if (flags & TCP_RST && !handshakeDone && !refusedBy) {
      refusedBy = p;
    }
  }
  if (c.clientIsn === null && !synAck) {
    c.outcome = "unknown";
    c.outcomeReason = "no SYN captured (the connection began before the capture)";
  } else if (handshakeDone) {
    c.outcome = "accepted";
    c.outcomeReason = "three-way handshake completed";
  } else if (refusedBy) {
    c.outcome = "refused";
    c.outcomeReason = `RST from ${formatEndpoint(c.server)} in #${refusedBy.index}`;
  } else if (refusedByIcmp) {
    c.outcome = "refused";
    c.outcomeReason = `ICMP unreachable (code ${
      refusedByIcmp.icmp!.code
    }) in #${refusedByIcmp.index}`;
  } else if (synAck) {
    c.outcome = "unknown";
    c.outcomeReason = clientReset
      ? "the client reset the connection during the handshake"
      : "SYN-ACK seen but the handshake did not complete in the capture";
  } else {
    c.outcome = "dropped";
    c.outcomeReason = "SYN not answered";
  }
}

/**
 * Connections of TCP and UDP packets, in order of their first packet. The client is the
 * side that sent the SYN (TCP) or the first datagram (UDP). A new SYN with another initial
 * sequence number on the same 5-tuple starts a new connection (port reuse). Fragments
 * without ports and ICMP packets other than errors are left out.
 */
export function groupConnections(packets: readonly Packet[]): Connection[] {
  const list: Connection[] = [];
  const open = new Map<string, Connection>();
  const all = new Map<string, Connection[]>();
  const icmpErrors: Packet[] = [];
  for (const p of packets) {
    if (p.protocol === "icmp") {
      if (p.icmp?.quoted) icmpErrors.push(p);
      continue;
    }
    if ((p.protocol !== "tcp" && p.protocol !== "udp") || p.srcPort === null) continue;
    const key = tupleKey(p.protocol, p.src, p.srcPort, p.dst, p.dstPort!);
    let c = open.get(key);
    const syn = isSyn(p);
    if (c && syn && c.clientIsn !== null && c.clientIsn !== p.tcp!.seq) c = undefined;
    if (!c) {
      // Without a SYN, the side answering with SYN-ACK is the server; else the first sender
      // is taken as the client.
      const senderIsServer = isSynAck(p);
      c = {
        id: list.length,
        protocol: p.protocol,
        client: senderIsServer
          ? { addr: p.dst, port: p.dstPort! }
          : { addr: p.src, port: p.srcPort },
        server: senderIsServer
          ? { addr: p.src, port: p.srcPort }
          : { addr: p.dst, port: p.dstPort! },
        packets: [],
        icmpErrors: [],
        start: p.time,
        end: p.time,
        clientIsn: syn ? p.tcp!.seq : null,
        outcome: "unknown",
        outcomeReason: "",
      };
      list.push(c);
      open.set(key, c);
      all.set(key, [...(all.get(key) ?? []), c]);
    }
    c.packets.push(p);
    c.end = p.time;
  }
  // An ICMP error quotes a packet the client sent: attach it to the latest connection of
  // that 5-tuple that had begun by then.
  for (const e of icmpErrors) {
    const q = e.icmp!.quoted!;
    if (q.srcPort === null || (q.protocol !== "tcp" && q.protocol !== "udp")) continue;
    const candidates = all.get(tupleKey(q.protocol, q.src, q.srcPort, q.dst, q.dstPort!)) ?? [];
    let c = candidates[0];
    for (const x of candidates) if (x.start <= e.time) c = x;
    if (c) c.icmpErrors.push(e);
  }
  for (const c of list) decideOutcome(c);
  return list;
}

/** Outcome counts of the given connections. */
export function countOutcomes(connections: readonly Connection[]): Record<Outcome, number> {
  const counts: Record<Outcome, number> = { accepted: 0, refused: 0, dropped: 0, unknown: 0 };
  for (const c of connections) counts[c.outcome]++;
  return counts;
}
