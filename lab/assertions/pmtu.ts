// Path MTU discovery through a VS/TUN director (research/wave2-forwarding.md §1.1): a DF
// packet that no longer fits once the outer header is added is answered by the director
// with ICMP fragmentation needed, from the VIP, carrying the reduced MTU (1480 for IPIP on a
// 1500-byte path); the client then sends smaller segments and the transfer completes. And
// where a router beyond the director has the smaller MTU (assertFragNeededFromRouter): the
// router's fragmentation needed to the director about a tunnel packet is followed by the
// director's to the client about the packet inside, with the router's MTU less the tunnel.
import type { Connection } from "../analysis/connections.ts";
import { formatPacket } from "../analysis/format.ts";
import { type Packet, TCP_FIN, TCP_RST } from "../analysis/packet.ts";
import { type AssertionResult, firstFew, plural, verdict } from "./result.ts";
import { quotedSource, quoteKey, type TunnelIcmpError } from "../analysis/tunnel-icmp.ts";

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
  routerErrors: readonly TunnelIcmpError[] = [],
): AssertionResult {
  const name = `fragmentation needed from the VIP with MTU ${want.mtu}`;
  // Connections a router's MTU reached are assertFragNeededFromRouter's.
  const routed = new Set(
    [...passedOn(publicPackets, want.vips, routerErrors).keys()].map((p) => quotedSource(p)),
  );
  const icmps = publicPackets.filter((p) =>
    isFragNeeded(p) && want.vips.has(p.src) && !routed.has(quotedSource(p))
  );
  const wrongMtu = icmps.filter((p) => nextHopMtu(p) !== want.mtu);
  const problems = wrongMtu.map((p) =>
    `${formatPacket(p)}: next-hop MTU ${nextHopMtu(p)}, not ${want.mtu} (${want.why})`
  );
  const about = publicConns.filter((c) =>
    c.icmpErrors.some(isFragNeeded) && !routed.has(`${c.client.addr}:${c.client.port}`)
  );
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

/** The VIP's fragmentation-needed packets to clients that pass a router's on, with it. */
function passedOn(
  publicPackets: readonly Packet[],
  vips: ReadonlySet<string>,
  routerErrors: readonly TunnelIcmpError[],
): Map<Packet, TunnelIcmpError> {
  const byInner = new Map<string, TunnelIcmpError>();
  for (const e of routerErrors) {
    if (e.type === ICMP_UNREACHABLE && e.code === ICMP_FRAG_NEEDED && e.innerKey !== null) {
      if (!byInner.has(e.innerKey)) byInner.set(e.innerKey, e);
    }
  }
  const out = new Map<Packet, TunnelIcmpError>();
  for (const p of publicPackets) {
    if (!isFragNeeded(p) || !vips.has(p.src)) continue;
    const e = byInner.get(quoteKey(p) ?? "");
    if (e && e.packet.time <= p.time) out.set(p, e);
  }
  return out;
}

export interface RouterFragNeededExpectation {
  vips: ReadonlySet<string>;
  /** The MTU the router must announce (its link's), or any. */
  routerMtu?: number;
}

/**
 * PASS when a router's fragmentation needed to the director about a tunnel packet is passed
 * on: the client network holds the VIP's fragmentation needed about the client packet that
 * was inside, after the router's, with the router's MTU less the tunnel's outer and tunnel
 * headers (IPVS's ip_vs_in_icmp); every later one to those connections carries the same
 * MTU (the director learnt it), and the connections then send packets that fit and close
 * normally.
 */
export function assertFragNeededFromRouter(
  publicPackets: readonly Packet[],
  publicConns: readonly Connection[],
  routerErrors: readonly TunnelIcmpError[],
  want: RouterFragNeededExpectation,
): AssertionResult {
  const name = "a router's fragmentation needed about a tunnel packet, passed on to the client";
  const fromRouter = routerErrors.filter((e) =>
    e.type === ICMP_UNREACHABLE && e.code === ICMP_FRAG_NEEDED
  );
  const pairs = passedOn(publicPackets, want.vips, routerErrors);
  const data = { routerErrors: fromRouter.length, passedOn: pairs.size, connections: 0 };
  if (fromRouter.length === 0 || pairs.size === 0) {
    return verdict(
      name,
      false,
      fromRouter.length === 0
        ? "the director's own network shows no router's fragmentation needed about a tunnel " +
          "packet (was the router's MTU lowered, and did big DF packets reach it?)"
        : `the director got ${fromRouter.length} fragmentation-needed from a router, but the ` +
          "client network shows none passed on from the VIP about the client's packet",
      [],
      data,
    );
  }
  const problems: string[] = [];
  const mtuOf = new Map<string, number>();
  for (const [p, e] of pairs) {
    if (want.routerMtu !== undefined && e.mtu !== want.routerMtu) {
      problems.push(
        `${formatPacket(e.packet)}: the router announced ${e.mtu}, not ${want.routerMtu}`,
      );
    }
    const mtu = e.mtu - e.headers;
    if (nextHopMtu(p) !== mtu) {
      problems.push(
        `${formatPacket(p)}: next-hop MTU ${nextHopMtu(p)}, not ${mtu} (the router's ${e.mtu} ` +
          `less ${e.headers} for the tunnel)`,
      );
    }
    mtuOf.set(quotedSource(p) ?? "", mtu);
  }
  const about = publicConns.filter((c) => mtuOf.has(`${c.client.addr}:${c.client.port}`));
  data.connections = about.length;
  for (const c of about) {
    const mtu = mtuOf.get(`${c.client.addr}:${c.client.port}`)!;
    const later = c.icmpErrors.filter((p) => isFragNeeded(p) && nextHopMtu(p) !== mtu);
    for (const p of later) {
      problems.push(`${formatPacket(p)}: next-hop MTU ${nextHopMtu(p)}, not the learnt ${mtu}`);
    }
    const first = [...pairs.keys()].find((p) =>
      quotedSource(p) === `${c.client.addr}:${c.client.port}`
    )!;
    const f = afterFault(c, first, mtu);
    if (f) problems.push(f);
  }
  if (problems.length === 0) {
    const [[p, e]] = [...pairs];
    return verdict(
      name,
      true,
      `${
        plural(fromRouter.length, "fragmentation needed", "fragmentation-needed messages")
      } from the router (${e.packet.src}, ` +
        `MTU ${e.mtu}) to the director; ${plural(pairs.size, "was", "were")} passed on from ` +
        `the VIP with MTU ${nextHopMtu(p)} (${e.mtu} less ${e.headers}); the client's ` +
        `${plural(about.length, "connection")} then sent packets that fit and closed normally`,
      [],
      data,
    );
  }
  return verdict(
    name,
    false,
    `${plural(problems.length, "problem")} passing the router's MTU on (first: ${problems[0]})`,
    firstFew(problems),
    data,
  );
}
