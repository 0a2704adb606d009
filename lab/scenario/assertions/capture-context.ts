// What the capture-judged assertion kinds read: the two networks' packets and connections
// as analyseCaptures (../capture-glue.ts) found them, and the helpers that pick one
// service's or one step's share out of them.
import type { Connection } from "../../analysis/connections.ts";
import type { Packet } from "../../analysis/packet.ts";
import type { TwinResult } from "../../analysis/twins.ts";
import type { DrView } from "../../assertions/direct-routing.ts";
import type { TunView } from "../../assertions/tunnel.ts";
import { plural, verdict } from "../../assertions/result.ts";
import type { ServiceSpec } from "../../assertions/service.ts";
import { FTP_CONTROL_PORT } from "../../../director/apps/ftp.ts";
import type { CheckResult } from "../checks.ts";
import type { Scenario } from "../schema.ts";
import type { StepWindow } from "../steps/types.ts";

export interface CaptureContext {
  readonly scenario: Scenario;
  readonly windows: ReadonlyMap<string, StepWindow>;
  /** The client network's packets and the private network's, in capture order. */
  readonly publicPackets: Packet[];
  readonly privatePackets: Packet[];
  readonly publicConns: Connection[];
  readonly privateConns: Connection[];
  /** The services the client network saw traffic for. */
  readonly used: ServiceSpec[];
  /** Packets tcpdump lost on the two networks (its ring overflowed under load). */
  readonly lost: number;
  /** Packet twins across the director for a service (loose where a helper rewrites payload). */
  twinsFor(s: ServiceSpec): TwinResult;
  /**
   * Where replies bypass the director (VS/DR): each client packet's path through it, from the
   * client network (public), the director's LAN port (private) and each real server's port.
   * Null in a NAT lab.
   */
  readonly dr: DrView | null;
  /**
   * Where the director reaches the real servers through tunnels (VS/TUN): each client packet's
   * path, from the client network, the director's own network (there `privatePackets` are the
   * inner packets of the director's tunnel packets) and each real server's port. Null else.
   */
  readonly tun: TunView | null;
  /** The capture file of the director's side judged (the path), for outside decoders. */
  readonly directorPcap: string;
}

/**
 * The client network's packets minus replies that belong to another port of the same VIP:
 * a client reuses a source port towards another virtual port (another service, a port
 * without a service that the director refuses, an FTP data port), and those replies must
 * not count as wrong replies of this service. Only exchanges the client began are set
 * aside: a reply from a port the client never called first (a port the director forgot to
 * rewrite) still counts against the service.
 */
export function withoutOtherPorts(packets: readonly Packet[], service: ServiceSpec): Packet[] {
  // "client:port vport" -> whether the client spoke first on that pair.
  const first = new Map<string, boolean>();
  for (const p of packets) {
    if (p.protocol !== service.protocol || p.srcPort === null) continue;
    if (p.dst === service.vip && p.dstPort !== service.port) {
      const k = `${p.src}:${p.srcPort} ${p.dstPort}`;
      if (!first.has(k)) first.set(k, true);
    } else if (p.src === service.vip && p.srcPort !== service.port) {
      const k = `${p.dst}:${p.dstPort} ${p.srcPort}`;
      if (!first.has(k)) first.set(k, false);
    }
  }
  return packets.filter((p) =>
    !(p.protocol === service.protocol && p.src === service.vip && p.srcPort !== service.port &&
      first.get(`${p.dst}:${p.dstPort} ${p.srcPort}`) === true)
  );
}

/**
 * A packet without its twin is a rewrite fault only if the capture saw everything: when
 * tcpdump reports it lost at least as many packets as lack a twin, they cannot be judged,
 * and the result passes saying so: its sentence starts "passed with N packets excused by
 * capture loss" and it carries excusedByCaptureLoss (JUnit shows it). A scenario with
 * capture: { complete: true } does not call this: there the loss itself fails.
 */
export function excuseCaptureLoss(r: CheckResult, lost: number): CheckResult {
  const unmatched = Number(r.data.unmatched ?? 0) + Number(r.data.unmatchedPrivate ?? 0);
  if (r.passed || lost === 0 || unmatched === 0 || unmatched > lost) return r;
  const matched = Number(r.data.matched ?? 0);
  const excused = verdict(
    r.name,
    true,
    `passed with ${plural(unmatched, "packet")} excused by capture loss: ` +
      `${plural(matched, "packet")} have their twin, ${unmatched} lack one, no more than the ` +
      `${plural(lost, "packet")} tcpdump lost (kernel drops), so they cannot be judged`,
    [r.line, ...r.details],
    { ...r.data, lostByCapture: lost, excusedByCaptureLoss: unmatched },
  );
  excused.excusedByCaptureLoss = unmatched;
  return excused;
}

/** Whether the director runs an application helper (FTP) on the service's control connections. */
export function hasPayloadHelper(s: ServiceSpec): boolean {
  return s.protocol === "tcp" && s.port === FTP_CONTROL_PORT;
}

/** The twin verdict's sentence as loose matching means it (no length or sequence numbers). */
export function looseWording(r: CheckResult): CheckResult {
  const strict = "(same IP id, client address:port, length and sequence numbers)";
  if (!r.line.includes(strict)) return r;
  const sentence = r.line.replace(/^(PASS|FAIL): /, "").replace(
    strict,
    "(same IP id and client address:port; lengths and sequence numbers differ where the " +
      "FTP helper rewrote the payload)",
  );
  return verdict(r.name, r.passed, sentence, r.details, r.data);
}

/** "client addr:port isn" of a TCP connection, "client addr:port" of a UDP flow. */
function connKey(c: Connection): string {
  return `${c.client.addr}:${c.client.port}${c.protocol === "tcp" ? ` ${c.clientIsn}` : ""}`;
}

/**
 * The private network's connections that carry the given client-network connections: NAT
 * keeps the client's address, port and initial sequence number, so a reused client port
 * towards another service is not mistaken for one of these.
 */
export function privateTwins(
  privateConns: readonly Connection[],
  publicConns: readonly Connection[],
): Connection[] {
  const keys = new Set(publicConns.map(connKey));
  const clients = new Set(publicConns.map((c) => `${c.client.addr}:${c.client.port}`));
  const protocols = new Set(publicConns.map((c) => c.protocol));
  // Packets without a SYN on the private side (a stray one sent to another server) are
  // kept by client address:port alone, so a split connection is still seen.
  return privateConns.filter((c) =>
    protocols.has(c.protocol) &&
    (keys.has(connKey(c)) ||
      (c.protocol === "tcp" && c.clientIsn === null &&
        clients.has(`${c.client.addr}:${c.client.port}`)))
  );
}

/** The client network's connections to a service. */
export function connectionsOf(conns: readonly Connection[], s: ServiceSpec): Connection[] {
  return conns.filter((c) =>
    c.protocol === s.protocol && c.server.addr === s.vip && c.server.port === s.port
  );
}

/** The private packets of a service's connections, in capture order. */
export function privatePacketsOf(
  privateConns: readonly Connection[],
  publicConns: readonly Connection[],
  s: ServiceSpec,
): Packet[] {
  return privateTwins(privateConns, connectionsOf(publicConns, s))
    .flatMap((c) => c.packets)
    .sort((a, b) => a.time - b.time || a.index - b.index);
}

export function inWindow(c: Connection, w: StepWindow | undefined): boolean {
  if (!w) return true;
  // pcap times are seconds; allow for the client's own start-up and the last FIN.
  return c.start * 1000 >= w.startedAt - 50 && c.start * 1000 <= w.endedAt + 50;
}
