// Plain-data pictures of the engine for the control path, in the shapes ipvsadm's
// formatters print: services with real servers, counters and rates; connection entries;
// timeouts. Built on request, never on the packet path.
import type { NextHopStatus } from "../net/route-next-hops.ts";
import type { DirectorEngine } from "../engine/engine.ts";
import type {
  ConnectionSnapshot,
  ListSnapshot,
  ServiceRow,
  TimeoutsSnapshot,
} from "../ipvsadm/snapshot-types.ts";
import type { Rates } from "../service/rate-estimator.ts";
import type { Stats } from "../service/types.ts";
import { connStateName } from "../protocols/state-name.ts";
import { IPPROTO_TCP } from "../packet/ipv4.ts";
import { CONN_F_TEMPLATE } from "../engine/conn-table.ts";
import { formatIPv4 } from "../net/ipv4-address.ts";
import type { TunnelIcmpCounters } from "../icmp/tunnel-icmp.ts";
import type { TunnelOptions } from "../service/tunnel-options.ts";

/** One VS/TUN server's next hop as lvs-stats shows it. */
export interface TunnelHopRow {
  server: string;
  /** The encapsulations the table gives it ("gue 6080 csum", "ipip", ...). */
  tunnel: string;
  /** The director's address on the route (the outer source); null: no route. */
  source: string | null;
  routeMtu: number;
  /** The path MTU an ICMP fragmentation-needed taught (0: none), and its seconds left. */
  pmtu: number;
  pmtuExpiresSeconds: number;
}

/** What the packet worker counts outside the engine: reads, writes on either thread. */
export interface PacketPathCounters {
  /** Reads from the TUN device that brought a packet (or a super-packet). */
  packetsRead: number;
  /** TUN reads that brought a GSO super-packet (TSO offload on). */
  superPacketsRead: number;
  /** Packets written to the TUN device by the packet thread itself, and by the transmit worker. */
  writtenByPacketThread: number;
  writtenByTransmitWorker: number;
  /** Failed writes to the TUN device, on either thread. */
  writeErrors: number;
  /**
   * VS/DR and VS/NAT frames the transmit worker sent for the packet thread (in framesSent
   * too), the sendmmsg calls it made for them, and the frames the kernel refused.
   */
  framesSentByTransmitWorker: number;
  transmitFrameSendCalls: number;
  transmitFrameSendErrors: number;
  /** Linux thread ids (gettid) of the packet thread and of each transmit thread (0: not yet). */
  packetThreadId: number;
  transmitThreadIds: number[];
  /** Packets each transmit thread wrote or sent as frames, in transmitThreadIds' order. */
  sentByTransmitThread: number[];
}

/** An engine with no packet loop around it (tests, tools). */
export const NO_PACKET_PATH_COUNTERS: PacketPathCounters = {
  packetsRead: 0,
  superPacketsRead: 0,
  writtenByPacketThread: 0,
  writtenByTransmitWorker: 0,
  writeErrors: 0,
  framesSentByTransmitWorker: 0,
  transmitFrameSendCalls: 0,
  transmitFrameSendErrors: 0,
  packetThreadId: 0,
  transmitThreadIds: [],
  sentByTransmitThread: [],
};

export interface EngineSnapshot extends ListSnapshot, PacketPathCounters {
  connections: number;
  maxConnections: number;
  totals: Stats;
  totalRates: Rates;
  drops: Record<string, number>;
  refusalsSent: number;
  reclaimedHalfOpen: number;
  /** VS/DR frames sent through the packet sockets, frames the kernel refused, sendmmsg calls. */
  framesSent: number;
  frameSendErrors: number;
  frameSendCalls: number;
  /** VS/TUN packets sent through the raw socket (segments counted one each), and refused. */
  tunnelPacketsSent: number;
  tunnelSendErrors: number;
  /**
   * VS/NAT packets queued as frames on a link (--nat-transmit packet; counted in framesSent
   * too when sent), and those written back into the TUN device instead, by reason.
   */
  natFramesQueued: number;
  natFallbacks: ReturnType<DirectorEngine["natRoutes"]["fallbackCounts"]>;
  /** Each Tunnel server's outer source and MTUs, and the ICMP errors about tunnel packets. */
  tunnelHops: TunnelHopRow[];
  tunnelIcmp: TunnelIcmpCounters;
  /** Each Route server's interface, MAC and neighbour state (added by the control thread). */
  nextHops: NextHopStatus[];
}

function serviceRows(engine: DirectorEngine): ServiceRow[] {
  return engine.services.entries.map(({ service }) => ({
    protocol: service.protocol,
    addr: service.addr,
    port: service.port,
    schedulerName: service.schedulerName,
    schedulerFlags: [...service.schedulerFlags],
    persistTimeout: service.persistTimeout,
    persistNetmask: service.persistNetmask,
    stats: { ...service.stats },
    rates: service.estimator.read(),
    destinations: service.destinations.map((d) => ({
      addr: d.addr,
      port: d.port,
      weight: d.weight,
      method: d.method,
      tunnel: { ...d.tunnel },
      upperThreshold: d.upperThreshold,
      lowerThreshold: d.lowerThreshold,
      activeConns: d.activeConns,
      inactiveConns: d.inactiveConns,
      persistConns: d.persistConns,
      stats: { ...d.stats },
      rates: d.estimator.read(),
    })),
  }));
}

function tunnelName(t: Readonly<TunnelOptions>): string {
  if (t.type === "ipip") return "ipip";
  if (t.type === "gue") return `gue ${t.port} ${t.checksum}`;
  return `gre ${t.checksum}`;
}

function tunnelHops(engine: DirectorEngine): TunnelHopRow[] {
  const names = new Map<number, Set<string>>();
  for (const { service } of engine.services.entries) {
    for (const d of service.destinations) {
      if (d.method !== "tunnel") continue;
      const set = names.get(d.addr >>> 0) ?? new Set<string>();
      set.add(tunnelName(d.tunnel));
      names.set(d.addr >>> 0, set);
    }
  }
  return engine.tunnels.describe(engine.now).map((h) => ({
    server: formatIPv4(h.server),
    tunnel: [...(names.get(h.server) ?? [])].join(", ") || "-",
    source: h.source === 0 ? null : formatIPv4(h.source),
    routeMtu: h.routeMtu,
    pmtu: h.pmtu,
    pmtuExpiresSeconds: h.pmtuExpiresSeconds,
  }));
}

/** Frames of either thread: the packet thread's sockets and the transmit worker's. */
function linkCounters(engine: DirectorEngine, path: PacketPathCounters) {
  const c = engine.links.counters();
  const t = engine.tunnels.counters();
  return {
    framesSent: c.framesSent + path.framesSentByTransmitWorker,
    frameSendErrors: c.sendErrors + path.transmitFrameSendErrors,
    frameSendCalls: c.sendCalls + path.transmitFrameSendCalls,
    tunnelPacketsSent: t.packetsSent,
    tunnelSendErrors: t.sendErrors,
    natFramesQueued: engine.natRoutes.framesQueued,
    natFallbacks: engine.natRoutes.fallbackCounts(),
    tunnelHops: tunnelHops(engine),
    tunnelIcmp: { ...engine.tunnelIcmp.counters },
  };
}

export function snapshotEngine(
  engine: DirectorEngine,
  pathCounters: PacketPathCounters = NO_PACKET_PATH_COUNTERS,
): EngineSnapshot {
  return {
    connTableSize: engine.conns.bucketCount,
    services: serviceRows(engine),
    connections: engine.conns.size,
    maxConnections: engine.conns.capacity,
    totals: { ...engine.totals },
    totalRates: engine.totalsEstimator.read(),
    drops: engine.drops.toJSON(),
    refusalsSent: engine.refusalsSent,
    reclaimedHalfOpen: engine.reclaimedHalfOpen,
    ...linkCounters(engine, pathCounters),
    nextHops: [],
    ...pathCounters,
  };
}

/** Every connection entry, as ipvsadm -L -c lists them (bounded: the table is). */
export function snapshotConnections(engine: DirectorEngine): ConnectionSnapshot[] {
  const conns = engine.conns;
  const out: ConnectionSnapshot[] = [];
  conns.forEach((slot) => {
    const proto = conns.proto[slot];
    const template = (conns.flags[slot] & CONN_F_TEMPLATE) !== 0;
    out.push({
      protocol: proto === IPPROTO_TCP ? "tcp" : "udp",
      caddr: conns.caddr[slot] >>> 0,
      cport: conns.cport[slot],
      vaddr: conns.vaddr[slot] >>> 0,
      vport: conns.vport[slot],
      daddr: conns.daddr[slot] >>> 0,
      dport: conns.dport[slot],
      // ip_vs_state_name(): templates are always "NONE".
      state: template ? "NONE" : connStateName(proto, conns.state[slot]),
      expiresInMs: Math.max(0, engine.wheel.expiresAt(slot) - engine.now),
      template,
    });
  });
  return out;
}

export function snapshotTimeouts(engine: DirectorEngine): TimeoutsSnapshot {
  const { tcp, tcpfin, udp } = engine.timeouts;
  return { tcp, tcpfin, udp };
}
