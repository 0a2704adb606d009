// Path MTU discovery through a VS/TUN director (research/wave2-forwarding.md §1.1): a DF
// packet that no longer fits once the outer header is added is answered by the director
// with ICMP fragmentation needed, from the VIP, carrying the reduced MTU (1480 for IPIP on a
// 1500-byte path); the client then sends smaller segments and the transfer completes.
import type { Connection } from "../analysis/connections.ts";
import { formatPacket } from "../analysis/format.ts";
import { type Packet, TCP_FIN, TCP_RST } from "../analysis/packet.ts";
import { type AssertionResult, firstFew, plural, verdict } from "./result.ts";

const ICMP_UNREACHABLE = 3;
const ICMP_FRAG_NEEDED = 4;
/** Next-hop MTU: bytes 6-7 of the ICMP header (RFC 1191). */
const NEXT_HOP_MTU_AT = 6;

export interface FragNeededExpectation {
  vips: ReadonlySet<string>;
  /** The next-hop MTU the ICMP must carry (path MTU less the tunnel's overhead). */
  mtu: number;
  /** What the MTU stands for, for the sentence ("1500 − 20 for IPIP"). */
  why: string;
}

/** The next-hop MTU of an ICMP fragmentation-needed packet. */
export function nextHopMtu(p: Packet): number {
  const at = p.headerLength + NEXT_HOP_MTU_AT;
  return (p.ipBytes[at] << 8) | p.ipBytes[at + 1];
}

const isFragNeeded = (p: Packet) =>
  p.icmp?.type === ICMP_UNREACHABLE && p.icmp.code === ICMP_FRAG_NEEDED;

/** What went wrong after the ICMP in its connection, or null: smaller packets, a clean close. */
function afterFault(c: Connection, icmp: Packet, mtu: number): string | null {
  const who = `${c.client.addr}:${c.client.port} -> ${c.server.addr}:${c.server.port}`;
  const fromClient = (p: Packet) => p.src === c.client.addr && p.srcPort === c.client.port;
  // Allow for packets already on their way when the ICMP arrived.
  const later = c.packets.filter((p) => fromClient(p) && p.time > icmp.time + 0.05);
  const big = later.find((p) => p.totalLength > mtu);
  if (big) {
    return `${who}: the client still sent ${big.totalLength}-byte packets (${formatPacket(big)})`;
  }
  if (c.packets.some((p) => p.tcp && p.tcp.flags & TCP_RST)) return `${who}: it was reset`;
  const fin = (mine: boolean) =>
    c.packets.some((p) => fromClient(p) === mine && p.tcp && p.tcp.flags & TCP_FIN);
  if (c.protocol === "tcp" && !(fin(true) && fin(false))) {
    return `${who}: it did not close normally (no FIN from both ends)`;
  }
  return null;
}

/**
 * PASS when the client network's capture holds ICMP fragmentation needed from a VIP, every
 * one with the expected next-hop MTU, and each connection it is about then sent only
 * packets that fit and closed normally.
 */
export function assertFragNeeded(
  publicPackets: readonly Packet[],
  publicConns: readonly Connection[],
  want: FragNeededExpectation,
): AssertionResult {
  const name = `fragmentation needed from the VIP with MTU ${want.mtu}`;
  const icmps = publicPackets.filter((p) => isFragNeeded(p) && want.vips.has(p.src));
  const wrongMtu = icmps.filter((p) => nextHopMtu(p) !== want.mtu);
  const problems = wrongMtu.map((p) =>
    `${formatPacket(p)}: next-hop MTU ${nextHopMtu(p)}, not ${want.mtu} (${want.why})`
  );
  const about = publicConns.filter((c) => c.icmpErrors.some(isFragNeeded));
  for (const c of about) {
    const first = c.icmpErrors.find(isFragNeeded)!;
    const f = afterFault(c, first, want.mtu);
    if (f) problems.push(f);
  }
  const data = { icmp: icmps.length, wrongMtu: wrongMtu.length, connections: about.length };
  if (icmps.length === 0) {
    const big = publicPackets.find((p) => want.vips.has(p.dst) && p.totalLength > want.mtu);
    return verdict(
      name,
      false,
      "the client network's capture holds no ICMP fragmentation needed from a VIP" +
        (big
          ? ` although the client sent ${big.totalLength}-byte packets (${formatPacket(big)})`
          : ""),
      [],
      data,
    );
  }
  if (problems.length === 0) {
    return verdict(
      name,
      true,
      `${plural(icmps.length, "ICMP fragmentation needed", "ICMP fragmentation-needed packets")} ` +
        `from the VIP carried MTU ${want.mtu} (${want.why}); after it the client's ` +
        `${plural(about.length, "connection")} sent packets that fit and closed normally`,
      [],
      data,
    );
  }
  return verdict(
    name,
    false,
    `${plural(problems.length, "problem")} with path MTU discovery (first: ${problems[0]})`,
    firstFew(problems),
    data,
  );
}
