// VS/DR's pairs as packets arrive (lab/analysis/dr-path.ts traces whole files): on the
// director's LAN port each client packet shows twice, as the router hands it to the director
// (destination MAC the director's) and as the director sends it on (source MAC the
// director's, destination MAC a real server's), with the same addresses, ports and TCP
// numbers (dr-path.ts's pathKey). Replies do not pass the director: they are taken from the
// real servers' own ports, alone. VS/TUN is the same with another way out: the director sends
// the client's packet on inside a tunnel packet (its legs say how each is told).
import type { Packet } from "../lab/analysis/packet.ts";
import { pathKey, SLACK_S } from "../lab/analysis/dr-path.ts";
import type { LivePairHandlers, Pairer } from "./live-pairs.ts";
import { WINDOW_S } from "./live-pairs.ts";

const MAX_WAITING = 5000;

/** How the director's segment shows a client packet coming in and going on. */
export interface CopyLegs {
  /** The client's packet as the router hands it to the director. */
  arrived(p: Packet): boolean;
  /** The client's packet inside `p` when the director sends it on (DR: `p` itself), or null. */
  left(p: Packet): Packet | null;
}

/** VS/DR's legs: by the director's MAC. */
export function frameLegs(directorMac: string): CopyLegs {
  return {
    arrived: (p) => p.dstMac === directorMac,
    left: (p) => (p.srcMac === directorMac ? p : null),
  };
}

export class LiveCopyPairer implements Pairer {
  private readonly arrived = new Map<string, Packet[]>();
  private waiting = 0;

  constructor(
    private readonly vip: string,
    /** The director's LAN segment. */
    readonly segment: string,
    private readonly legs: CopyLegs,
    /** The real servers' own ports: their replies. */
    private readonly serverSegments: ReadonlySet<string>,
    private readonly handlers: LivePairHandlers,
  ) {}

  add(segment: string, p: Packet): void {
    if (this.serverSegments.has(segment)) {
      if (p.src === this.vip) this.handlers.alone(p, segment);
      return;
    }
    if (segment !== this.segment) return;
    const inside = this.legs.left(p);
    if (inside && inside.dst === this.vip) {
      const key = pathKey(inside);
      const list = this.arrived.get(key);
      const i = list?.findIndex((a) => p.time >= a.time - SLACK_S && p.time <= a.time + WINDOW_S) ??
        -1;
      if (!list || i < 0) return this.handlers.alone(p, segment);
      const [before] = list.splice(i, 1);
      if (list.length === 0) this.arrived.delete(key);
      this.waiting--;
      this.handlers.pair({
        direction: "to-server",
        before,
        after: p,
        beforeSegment: segment,
        afterSegment: segment,
      });
    } else if (p.dst === this.vip && this.legs.arrived(p)) {
      if (this.waiting >= MAX_WAITING) this.expire(Infinity);
      const key = pathKey(p);
      const list = this.arrived.get(key);
      if (list) list.push(p);
      else this.arrived.set(key, [p]);
      this.waiting++;
    }
  }

  /** Client packets the director did not send on within the window, alone. */
  expire(now: number): void {
    for (const [key, list] of this.arrived) {
      const keep = list.filter((p) => now - p.time <= WINDOW_S);
      for (const p of list) if (!keep.includes(p)) this.handlers.alone(p, this.segment);
      this.waiting -= list.length - keep.length;
      if (keep.length) this.arrived.set(key, keep);
      else this.arrived.delete(key);
    }
  }
}
