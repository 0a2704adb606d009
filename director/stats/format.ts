// `lvs-stats` output: the director's totals in the layout of the kernel's
// /proc/net/ip_vs_stats (hexadecimal, as the kernel prints them), then what IPVS has no file
// for: connection entries, dropped packets by reason, refusals, reclaimed half-open entries,
// super-packets read, packets written by each thread and failed writes to the TUN device.
import type { EngineSnapshot } from "../control/snapshot.ts";

/** The snapshot fields lvs-stats shows, in one list: the type and the copy come from it. */
export const COUNTER_FIELDS = [
  "connections",
  "maxConnections",
  "totals",
  "totalRates",
  "drops",
  "refusalsSent",
  "reclaimedHalfOpen",
  "writeErrors",
  "packetsRead",
  "superPacketsRead",
  "writtenByPacketThread",
  "writtenByTransmitWorker",
  "framesSent",
  "framesSentByTransmitWorker",
  "frameSendErrors",
  "frameSendCalls",
  "tunnelPacketsSent",
  "tunnelSendErrors",
  "natFramesQueued",
  "natFallbacks",
  "tunnelHops",
  "tunnelIcmp",
  "nextHops",
  "packetThreadId",
  "transmitThreadIds",
  "sentByTransmitThread",
] as const satisfies readonly (keyof EngineSnapshot)[];

export type DirectorCounters = Pick<EngineSnapshot, (typeof COUNTER_FIELDS)[number]>;

/** The counters of a snapshot, and nothing else of it (no service table). */
export function countersOf(snapshot: EngineSnapshot): DirectorCounters {
  return Object.fromEntries(COUNTER_FIELDS.map((f) => [f, snapshot[f]])) as DirectorCounters;
}

const hex = (n: number, width: number) => Math.trunc(n).toString(16).toUpperCase().padStart(width);

/** The five columns of a /proc/net/ip_vs_stats row ("%8LX %8LX %8LX %16LX %16LX"). */
function procRow(values: [number, number, number, number, number]): string {
  const [a, b, c, d, e] = values;
  return `${hex(a, 8)} ${hex(b, 8)} ${hex(c, 8)} ${hex(d, 16)} ${hex(e, 16)}\n`;
}

export function formatCounters(c: DirectorCounters): string {
  const t = c.totals;
  const r = c.totalRates;
  let out = "   Total Incoming Outgoing         Incoming         Outgoing\n" +
    "   Conns  Packets  Packets            Bytes            Bytes\n" +
    procRow([t.conns, t.inpkts, t.outpkts, t.inbytes, t.outbytes]) + "\n" +
    " Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s\n" +
    procRow([r.cps, r.inpps, r.outpps, r.inbps, r.outbps]) + "\n";
  const drops = Object.entries(c.drops).sort(([a], [b]) => a.localeCompare(b));
  const dropped = drops.reduce((sum, [, n]) => sum + n, 0);
  out += `Connection entries: ${c.connections} (limit ${c.maxConnections})\n`;
  out += `Dropped packets: ${dropped}\n`;
  for (const [reason, n] of drops) out += `  ${reason.padEnd(32)} ${n}\n`;
  out += `Refusals sent (TCP reset or ICMP port unreachable): ${c.refusalsSent}\n`;
  out += `Half-open entries reclaimed (SYN-flood defence): ${c.reclaimedHalfOpen}\n`;
  out += `Packets read from the TUN device: ${c.packetsRead}\n`;
  out += `Threads (Linux thread ids, as perf names them): packet ${c.packetThreadId}, ` +
    `transmit ${c.transmitThreadIds.length === 0 ? "-" : c.transmitThreadIds.join(" ")}\n`;
  out += `Super-packets read (TSO offload): ${c.superPacketsRead}\n`;
  out += `Packets written by the packet thread: ${c.writtenByPacketThread}\n`;
  out += `Packets written by the transmit thread: ${c.writtenByTransmitWorker}\n`;
  if (c.sentByTransmitThread.length > 1) {
    out += `Packets and frames by transmit thread: ${c.sentByTransmitThread.join(", ")}\n`;
  }
  out += `Failed writes to the TUN device: ${c.writeErrors}\n`;
  out += `Frames sent (packet sockets, VS/DR and VS/NAT): ${c.framesSent} in ${c.frameSendCalls} ` +
    `sendmmsg calls, ${c.framesSentByTransmitWorker} of them by the transmit thread\n`;
  out += `Frames the kernel refused: ${c.frameSendErrors}\n`;
  const f = c.natFallbacks;
  out +=
    `VS/NAT packets sent as frames: ${c.natFramesQueued}; written to the TUN device instead: ` +
    `${f.noNextHop} (no next hop), ${f.neighbour} (MAC unresolved), ${f.tooBig} (too big)\n`;
  out +=
    `VS/TUN packets sent (raw socket): ${c.tunnelPacketsSent}, refused: ${c.tunnelSendErrors}\n`;
  const ti = c.tunnelIcmp;
  out +=
    `VS/TUN ICMP errors about tunnel packets: ${ti.received}, sent on to the client: ${ti.translated}, path MTU updates: ${ti.pmtuUpdates}\n`;
  if (c.tunnelHops.length > 0) {
    out += "VS/TUN next hops (server, tunnel, outer source, route MTU, learnt path MTU):\n";
  }
  for (const hop of c.tunnelHops) {
    const pmtu = hop.pmtu === 0 ? "-" : `${hop.pmtu} (expires in ${hop.pmtuExpiresSeconds} s)`;
    out += `  ${hop.server.padEnd(15)} ${hop.tunnel.padEnd(15)} ${
      (hop.source ?? "no-route").padEnd(15)
    } ${String(hop.routeMtu).padEnd(5)} ${pmtu}\n`;
  }
  if (c.nextHops.length > 0) out += "VS/DR next hops (server, interface, MAC, neighbour state):\n";
  for (const hop of c.nextHops) {
    out += `  ${hop.server.padEnd(15)} ${(hop.ifname ?? "-").padEnd(15)} ${
      (hop.mac ?? "-").padEnd(17)
    } ${hop.status}\n`;
  }
  return out;
}
