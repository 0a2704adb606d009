// Twin matching: the same packet seen before and after the director. A packet on the client
// ("public") network to or from the VIP has its twin on the private network: same protocol,
// IP id, client address and port (NAT preserves them), same length and TCP seq/ack/flags,
// seen within a short time window.
import type { Packet } from "./packet.ts";

/** "to-server": client→VIP became client→real server; "to-client": RS→client became VIP→client. */
export type TwinDirection = "to-server" | "to-client";

export interface TwinPair {
  direction: TwinDirection;
  public: Packet;
  private: Packet;
  /** The packet as it reached the director (public for to-server, private for to-client). */
  before: Packet;
  /** The packet as the director sent it on. */
  after: Packet;
}

export interface TwinOptions {
  /** The virtual address: public packets to or from it are matched, others ignored. */
  vip: string;
  /** Longest time between a packet and its twin (default 1000 ms). */
  windowMs?: number;
  /**
   * Match on protocol, IP id, client address/port and fragment offset only, not on length or
   * TCP seq/ack/flags (for application helpers, such as FTP's, that change payloads).
   */
  loose?: boolean;
}

export interface TwinResult {
  pairs: TwinPair[];
  /** Public packets to or from the VIP without a twin. */
  unmatchedPublic: Packet[];
  /** Private packets that are nobody's twin. */
  unmatchedPrivate: Packet[];
}

// Clocks of captures in one kernel agree; allow a little disorder between the two files.
export const SLACK_S = 0.01;

function clientPort(p: Packet, clientIsSource: boolean): number {
  if (p.srcPort !== null) return clientIsSource ? p.srcPort : p.dstPort!;
  if (p.icmp?.id !== null && p.icmp?.id !== undefined) return p.icmp.id;
  const q = p.icmp?.quoted;
  // An error sent towards the client quotes what the client sent, and the other way round.
  if (q) return (clientIsSource ? q.dstPort : q.srcPort) ?? 0;
  return 0;
}

/** What a packet and its twin share (exported for the classroom's live matching). */
export function twinKey(p: Packet, direction: TwinDirection, loose: boolean): string {
  const clientIsSource = direction === "to-server";
  const client = clientIsSource ? p.src : p.dst;
  const base =
    `${direction} ${p.protocolNumber} ${client}:${clientPort(p, clientIsSource)} id ${p.ipId} ` +
    `frag ${p.fragmentOffset}`;
  if (loose) return base;
  const tcp = p.tcp ? ` seq ${p.tcp.seq} ack ${p.tcp.ack} flags ${p.tcp.flags}` : "";
  const icmp = p.icmp ? ` icmp ${p.icmp.type}/${p.icmp.code}` : "";
  return `${base} len ${p.payloadLength}${tcp}${icmp}`;
}

/** Pairs every VIP packet on the public network with its twin on the private network. */
export function matchTwins(
  publicPackets: readonly Packet[],
  privatePackets: readonly Packet[],
  options: TwinOptions,
): TwinResult {
  const window = (options.windowMs ?? 1000) / 1000;
  const loose = options.loose ?? false;
  const candidates = new Map<string, Packet[]>();
  const add = (k: string, p: Packet) => {
    const list = candidates.get(k);
    if (list) list.push(p);
    else candidates.set(k, [p]);
  };
  const byTime = (a: Packet, b: Packet) => a.time - b.time;
  for (const p of [...privatePackets].sort(byTime)) {
    add(twinKey(p, "to-server", loose), p);
    add(twinKey(p, "to-client", loose), p);
  }
  const used = new Set<Packet>();
  const pairs: TwinPair[] = [];
  const unmatchedPublic: Packet[] = [];
  for (const p of [...publicPackets].sort(byTime)) {
    const direction: TwinDirection | null = p.dst === options.vip
      ? "to-server"
      : p.src === options.vip
      ? "to-client"
      : null;
    if (!direction) continue;
    // to-server: the private twin comes after; to-client: it came before.
    const [from, to] = direction === "to-server"
      ? [p.time - SLACK_S, p.time + window]
      : [p.time - window, p.time + SLACK_S];
    const twin = (candidates.get(twinKey(p, direction, loose)) ?? []).find((c) =>
      !used.has(c) && c.time >= from && c.time <= to
    );
    if (!twin) {
      unmatchedPublic.push(p);
      continue;
    }
    used.add(twin);
    pairs.push(
      direction === "to-server"
        ? { direction, public: p, private: twin, before: p, after: twin }
        : { direction, public: p, private: twin, before: twin, after: p },
    );
  }
  const unmatchedPrivate = privatePackets.filter((p) => !used.has(p));
  return { pairs, unmatchedPublic, unmatchedPrivate };
}
