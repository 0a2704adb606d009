// The packet worker's heap and GC counters (LVSLAB_WORKER_STATS lines) over the load runs:
// GCs and heap growth per million packets handled. Zero GCs while millions of packets pass
// is the evidence that the steady path does not allocate.
import type { WorkerGcResult } from "../types.ts";

export interface WorkerSample {
  t: number;
  packets: number;
  heapUsed: number;
  gcCount: number;
  gcMs: number;
}

export function parseWorkerSamples(text: string): WorkerSample[] {
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as WorkerSample);
}

/**
 * Sums what happened between consecutive samples that both fall inside one of the windows
 * (ms since epoch), so idle time between runs and the warm-up do not count. Heap growth
 * between two samples with no GC in between is what the worker allocated then: divided by
 * the packets of those intervals it is the allocation per packet (a little of it is the
 * once-a-second sampling itself).
 */
export function summariseWorkerGc(
  samples: WorkerSample[],
  windows: { startMs: number; endMs: number }[],
): WorkerGcResult | null {
  let packets = 0;
  let gcCount = 0;
  let gcMs = 0;
  let quietPackets = 0;
  let quietGrowth = 0;
  let used = 0;
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1];
    const b = samples[i];
    if (!windows.some((w) => a.t >= w.startMs && b.t <= w.endMs)) continue;
    const n = b.packets - a.packets;
    packets += n;
    gcCount += b.gcCount - a.gcCount;
    gcMs += b.gcMs - a.gcMs;
    if (b.gcCount === a.gcCount) {
      quietPackets += n;
      quietGrowth += b.heapUsed - a.heapUsed;
    }
    used++;
  }
  if (used === 0 || packets === 0) return null;
  return {
    packets,
    gcCount,
    gcMs,
    gcPerMillionPackets: (gcCount * 1e6) / packets,
    allocatedBytesPerPacket: quietPackets > 0 ? quietGrowth / quietPackets : null,
    samples: used,
  };
}
