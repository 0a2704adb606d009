// The decapsulator's counters as one JSON object: written to --stats-file every second (and
// at exit), printed on SIGUSR1. Control path only.
import fs from "node:fs";
import { formatIPv4 } from "../../director/net/ipv4-address.ts";
import { verdictCounts } from "./drop-reasons.ts";
import type { DecapLoop } from "./decap-loop.ts";
import type { RawReceiver } from "./raw-receiver.ts";

export interface DecapStats {
  type: string;
  tun: string;
  guePort?: number;
  directors: string[];
  /** Inner destinations accepted right now (local addresses, narrowed to --vip). */
  innerDestinations: string[];
  received: number;
  batches: number;
  receiveErrors: number;
  /** Packets the kernel dropped because the socket's receive buffer was full. */
  socketDrops: number;
  /** Packets by verdict: "injected" and each drop reason. */
  verdicts: Record<string, number>;
  updatedAt: string;
}

export function statsSnapshot(
  loop: DecapLoop,
  receiver: RawReceiver,
  tun: string,
  socketDrops: number,
): DecapStats {
  const p = loop.policy;
  const text = (set: ReadonlySet<number>) => [...set].map((a) => formatIPv4(a >>> 0));
  return {
    type: p.type,
    tun,
    ...(p.type === "gue" ? { guePort: p.guePort } : {}),
    directors: text(p.directors),
    innerDestinations: text(p.innerDestinations),
    received: receiver.packets,
    batches: receiver.batches,
    receiveErrors: loop.receiveErrors,
    socketDrops,
    verdicts: verdictCounts(loop.counts),
    updatedAt: new Date().toISOString(),
  };
}

/** Replaces the file whole (a reader never sees half a JSON document). */
export function writeStatsFile(path: string, stats: DecapStats): void {
  const tmp = `${path}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(stats, null, 2) + "\n");
  fs.renameSync(tmp, path);
}
