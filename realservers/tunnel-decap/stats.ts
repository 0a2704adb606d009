// The decapsulator's counters as one JSON object: written to --stats-file (a second after
// they settle, every few seconds while they move, and at exit), printed on SIGUSR1. Per
// tunnel type (each has its raw socket) and summed over them, so a reader of one type's
// instance finds its numbers at the top. Control path only.
import fs from "node:fs";
import { formatIPv4 } from "../../director/net/ipv4-address.ts";
import { verdictCounts } from "./drop-reasons.ts";
import type { DecapChannel, DecapLoop } from "./decap-loop.ts";
import type { RawReceiver } from "./raw-receiver.ts";

/** One type's raw socket: what it received and what became of it. */
export interface TypeStats {
  received: number;
  batches: number;
  receiveErrors: number;
  /** Packets the kernel dropped because the socket's receive buffer was full. */
  socketDrops: number;
  /** Packets by verdict: "injected" and each drop reason. */
  verdicts: Record<string, number>;
  /** write(2) calls on the TUN device: injected packets less those merged (tcp-merge.ts). */
  tunWrites: number;
  /** Super-packets written and the TCP segments merged into them. */
  superPackets: number;
  mergedSegments: number;
}

export interface DecapStats extends TypeStats {
  /** The types received, as --type gave them. */
  types: string[];
  /** The same, comma-separated ("ipip,gre"). */
  type: string;
  tun: string;
  guePort?: number;
  directors: string[];
  /** Inner destinations accepted right now (local addresses, narrowed to --vip). */
  innerDestinations: string[];
  /** Each type's own counters; the fields above sum them. */
  byType: Record<string, TypeStats>;
  updatedAt: string;
}

export type StatsChannel = DecapChannel<RawReceiver>;

function typeStats(c: StatsChannel, socketDrops: number): TypeStats {
  return {
    received: c.receiver.packets,
    batches: c.receiver.batches,
    receiveErrors: c.receiveErrors,
    socketDrops,
    verdicts: verdictCounts(c.counts),
    tunWrites: c.merger?.writes ?? 0,
    superPackets: c.merger?.superPackets ?? 0,
    mergedSegments: c.merger?.mergedSegments ?? 0,
  };
}

/** Sums the types' counters field by field. */
function total(parts: readonly TypeStats[]): TypeStats {
  const verdicts: Record<string, number> = {};
  for (const p of parts) {
    for (const [k, v] of Object.entries(p.verdicts)) verdicts[k] = (verdicts[k] ?? 0) + v;
  }
  const sum = (f: (p: TypeStats) => number) => parts.reduce((n, p) => n + f(p), 0);
  return {
    received: sum((p) => p.received),
    batches: sum((p) => p.batches),
    receiveErrors: sum((p) => p.receiveErrors),
    socketDrops: sum((p) => p.socketDrops),
    verdicts,
    tunWrites: sum((p) => p.tunWrites),
    superPackets: sum((p) => p.superPackets),
    mergedSegments: sum((p) => p.mergedSegments),
  };
}

export function statsSnapshot(
  loop: DecapLoop,
  channels: readonly StatsChannel[],
  tun: string,
  socketDrops: (c: StatsChannel) => number,
): DecapStats {
  const p = loop.policy;
  const text = (set: ReadonlySet<number>) => [...set].map((a) => formatIPv4(a >>> 0));
  const byType = Object.fromEntries(channels.map((c) => [c.type, typeStats(c, socketDrops(c))]));
  const types = channels.map((c) => c.type);
  return {
    types,
    type: types.join(","),
    tun,
    ...(types.includes("gue") ? { guePort: p.guePort } : {}),
    directors: text(p.directors),
    innerDestinations: text(p.innerDestinations),
    ...total(Object.values(byType)),
    byType,
    updatedAt: new Date().toISOString(),
  };
}

/** Replaces the file whole (a reader never sees half a JSON document). */
export function writeStatsFile(path: string, stats: DecapStats): void {
  const tmp = `${path}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(stats, null, 2) + "\n");
  fs.renameSync(tmp, path);
}
