// One line in plain words per event: what the director did to the packet and why, from the
// packet pair and the director's service table at that moment.
import { type Packet, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from "../lab/analysis/packet.ts";
import { destination, source } from "../lab/analysis/packet.ts";
import type { LivePair } from "./live-pairs.ts";
import type { TablesView } from "./event-types.ts";

export interface Explanation {
  text: string;
  /** "tcp 198.51.100.2:40000": the connection's entry in the director's table. */
  connection?: string;
  /** The real server's address:port. */
  server?: string;
}

function connectionOf(p: Packet, clientIsSource: boolean): string {
  const [addr, port] = clientIsSource ? [p.src, p.srcPort] : [p.dst, p.dstPort];
  return `${p.protocol} ${addr}:${port ?? 0}`;
}

/** What the TCP flags add: "", " (the client closes)", ... */
function flagNote(p: Packet, from: string): string {
  const f = p.tcp?.flags ?? 0;
  if (f & TCP_RST) return ` (a reset from ${from})`;
  if (f & TCP_FIN) return ` (${from} closes its side)`;
  if ((f & TCP_SYN) && (f & TCP_ACK)) return " (the server accepts: SYN-ACK)";
  if (p.payloadLength > 0) return ` (${p.payloadLength} bytes of data)`;
  return "";
}

/** VS/DR: the real server is named by the frame's MAC, not by the (unchanged) address. */
export interface FrameTarget {
  host: string;
  /** "172.16.0.3:80" */
  address: string;
  /** What the director did instead of a new frame (VS/TUN: the tunnel packet it sent). */
  how?: string;
}

export function explainPair(
  pair: LivePair,
  tables: TablesView | null,
  frameTo?: FrameTarget,
): Explanation {
  const { before, after } = pair;
  if (pair.direction === "to-server") {
    const server = frameTo?.address ?? destination(after);
    const rewrite = frameTo?.how ??
      (frameTo
        ? `the same IP packet goes on in a frame to ${frameTo.host}'s MAC (only the MACs and ` +
          `the TTL change)`
        : `destination ${destination(before)} rewritten to ${server}`);
    const connection = connectionOf(before, true);
    const flags = before.tcp?.flags ?? 0;
    const isNew = before.protocol !== "tcp" || ((flags & TCP_SYN) && !(flags & TCP_ACK));
    if (isNew) {
      const svc = tables?.services.find((s) => s.address === destination(before));
      const dest = svc?.destinations.find((d) => d.address === server);
      const picked = svc
        ? `${svc.scheduler} picked ${server}${dest ? ` (weight ${dest.weight})` : ""}`
        : `the scheduler sent it to ${server}`;
      return {
        text: `new connection: ${picked}; ${rewrite}`,
        connection,
        server,
      };
    }
    return {
      text: `client → real server: ${
        frameTo?.how ??
          (frameTo ? `a frame to ${frameTo.host}'s MAC` : `destination rewritten to ${server}`)
      } (the connection's entry says where)${flagNote(before, "the client")}`,
      connection,
      server,
    };
  }
  return {
    text: `reply: source ${source(before)} rewritten to the VIP ${source(after)}` +
      flagNote(before, "the real server"),
    connection: connectionOf(after, false),
    server: source(before),
  };
}

/** VS/DR: a reply seen on a real server's own port, from the VIP it holds on lo. */
export function explainBypassReply(p: Packet, host: string): Explanation {
  return {
    text: `reply: ${host} answers from the VIP itself, straight to the router (it does not ` +
      `pass the director)${flagNote(p, host)}`,
    connection: connectionOf(p, false),
  };
}

/** A packet to or from the VIP on the client's side that has no twin behind the director. */
export function explainAlone(p: Packet, vip: string): Explanation {
  if (p.src === vip) {
    if (p.tcp && (p.tcp.flags & TCP_RST) !== 0) {
      return {
        text: `RST from the director: no service on port ${p.srcPort}`,
        connection: connectionOf(p, false),
      };
    }
    const q = p.icmp?.quoted;
    if (p.icmp?.type === 3 && q) {
      return {
        text: `ICMP unreachable (code ${p.icmp.code}) from the director: nothing serves ` +
          `${q.dst}:${q.dstPort ?? "?"}`,
        connection: `${q.protocol} ${q.src}:${q.srcPort ?? 0}`,
      };
    }
    return { text: `the director's own answer (no twin behind it): ${describe(p)}` };
  }
  return {
    text: `to the VIP, not passed on: no twin behind the director within a second (the ` +
      `director answered it itself or dropped it)`,
    connection: connectionOf(p, true),
  };
}

function describe(p: Packet): string {
  return `${source(p)} → ${destination(p)}`;
}
