// Client packets that reached the director host but never lvslab's TUN device: the host's
// kernel dropped them before lvslab could read them, as a NIC drops what its ring cannot hold.
// The forwarding checks of the methods whose director sees only the client's side (VS/DR,
// VS/TUN: ./direct-routing.ts, ./tunnel.ts) ask this of the packets that did not leave it.
import type { Packet } from "../analysis/packet.ts";

/**
 * Packets the director host's kernel may drop, per packet judged, left aside with a count:
 * one in a thousand, a NIC's order of loss under a burst. More is a fault (a route or filter
 * sending them elsewhere) and fails.
 */
export const KERNEL_DROP_ALLOWANCE = 1 / 1000;

export interface KernelDrops<H> {
  /** The hops not forwarded that are missing from the TUN device's capture. */
  dropped: H[];
  /** True when every hop not forwarded is one of them, and within the allowance. */
  excused: boolean;
}

/**
 * Which of `notForwarded` (hops that reached the director's port and did not leave it) never
 * reached its TUN device (`tunPackets`, its capture; null: not captured, none is).
 */
export function kernelDrops<H extends { arrived: Packet | null }>(
  tunPackets: readonly Packet[] | null,
  judged: number,
  notForwarded: readonly H[],
): KernelDrops<H> {
  if (tunPackets === null) return { dropped: [], excused: notForwarded.length === 0 };
  const key = (p: Packet) => `${p.src}:${p.srcPort}>${p.dst}:${p.dstPort}#${p.ipId}`;
  const read = new Set(tunPackets.map(key));
  const dropped = notForwarded.filter((h) => !read.has(key(h.arrived!)));
  return {
    dropped,
    excused: dropped.length === notForwarded.length &&
      dropped.length <= judged * KERNEL_DROP_ALLOWANCE,
  };
}
