// Twin matching as packets arrive (lab/analysis/twins.ts matches whole files after a run):
// a VIP packet on the client's segment and its twin on the real servers' segment, in either
// arrival order (the two files are read one after the other). A packet still alone after the
// window is handed over by itself: the director answered it (a reset, an ICMP error) or
// dropped it. Memory is bounded: at most MAX_WAITING packets wait per side.
import type { Packet } from "../lab/analysis/packet.ts";
import { SLACK_S, type TwinDirection, twinKey } from "../lab/analysis/twins.ts";

/** How long a packet waits for its twin, in seconds (capture time). */
export const WINDOW_S = 1;
const MAX_WAITING = 5000;

export interface LivePair {
  direction: TwinDirection;
  before: Packet;
  after: Packet;
  beforeSegment: string;
  afterSegment: string;
}

interface Waiting {
  packet: Packet;
  key: string;
  /** A private packet waits under both directions' keys: the other one. */
  otherKey: string | null;
}

export interface LivePairHandlers {
  pair(p: LivePair): void;
  /** A VIP packet on the client's side without a twin within the window. */
  alone(p: Packet, segment: string): void;
}

/** What the session feeds packets to: NAT's twins (below) or DR's copies (live-copies.ts). */
export interface Pairer {
  add(segment: string, p: Packet): void;
  expire(now: number): void;
}

export class LivePairer implements Pairer {
  private readonly publicWaiting = new Map<string, Waiting[]>();
  private readonly privateWaiting = new Map<string, Waiting[]>();
  private waitingCount = 0;

  constructor(
    private readonly vip: string,
    readonly publicSegment: string,
    readonly privateSegment: string,
    private readonly handlers: LivePairHandlers,
  ) {}

  private direction(p: Packet): TwinDirection | null {
    return p.dst === this.vip ? "to-server" : p.src === this.vip ? "to-client" : null;
  }

  /** Feeds a packet of one of the two segments. */
  add(segment: string, p: Packet): void {
    if (segment === this.publicSegment) this.addPublic(p);
    else if (segment === this.privateSegment) this.addPrivate(p);
  }

  private addPublic(p: Packet): void {
    const direction = this.direction(p);
    if (!direction) return;
    const key = twinKey(p, direction, false);
    const twin = this.take(this.privateWaiting, key, (c) => this.fits(p, direction, c));
    if (twin) this.emit(direction, p, twin);
    else this.wait(this.publicWaiting, { packet: p, key, otherKey: null });
  }

  private addPrivate(p: Packet): void {
    for (const direction of ["to-server", "to-client"] as const) {
      const key = twinKey(p, direction, false);
      const twin = this.take(this.publicWaiting, key, (c) => this.fits(c, direction, p));
      if (twin) return this.emit(direction, twin, p);
    }
    // Unknown direction until a public packet claims it: waits under both keys.
    const [a, b] = [twinKey(p, "to-server", false), twinKey(p, "to-client", false)];
    this.wait(this.privateWaiting, { packet: p, key: a, otherKey: b });
    this.wait(this.privateWaiting, { packet: p, key: b, otherKey: a });
  }

  /** twins.ts's time rule: to-server's private twin comes after, to-client's before. */
  private fits(pub: Packet, direction: TwinDirection, priv: Packet): boolean {
    return direction === "to-server"
      ? priv.time >= pub.time - SLACK_S && priv.time <= pub.time + WINDOW_S
      : priv.time >= pub.time - WINDOW_S && priv.time <= pub.time + SLACK_S;
  }

  private take(
    map: Map<string, Waiting[]>,
    key: string,
    fits: (p: Packet) => boolean,
  ): Packet | null {
    const list = map.get(key);
    const i = list?.findIndex((w) => fits(w.packet)) ?? -1;
    if (!list || i < 0) return null;
    const [w] = list.splice(i, 1);
    if (list.length === 0) map.delete(key);
    this.waitingCount--;
    // A private packet waits under two keys: drop the other one too.
    if (w.otherKey !== null) this.forget(map, w.otherKey, w.packet);
    return w.packet;
  }

  private forget(map: Map<string, Waiting[]>, key: string, p: Packet): void {
    const list = map.get(key);
    const i = list?.findIndex((w) => w.packet === p) ?? -1;
    if (!list || i < 0) return;
    list.splice(i, 1);
    this.waitingCount--;
    if (list.length === 0) map.delete(key);
  }

  private wait(map: Map<string, Waiting[]>, w: Waiting): void {
    if (this.waitingCount >= MAX_WAITING) this.expire(Infinity);
    const list = map.get(w.key);
    if (list) list.push(w);
    else map.set(w.key, [w]);
    this.waitingCount++;
  }

  private emit(direction: TwinDirection, pub: Packet, priv: Packet): void {
    this.handlers.pair(
      direction === "to-server"
        ? {
          direction,
          before: pub,
          after: priv,
          beforeSegment: this.publicSegment,
          afterSegment: this.privateSegment,
        }
        : {
          direction,
          before: priv,
          after: pub,
          beforeSegment: this.privateSegment,
          afterSegment: this.publicSegment,
        },
    );
  }

  /** Hands over public packets that waited longer than the window before `now` (capture s). */
  expire(now: number): void {
    for (const map of [this.publicWaiting, this.privateWaiting]) {
      for (const [key, list] of map) {
        const keep = list.filter((w) => now - w.packet.time <= WINDOW_S);
        for (const w of list) {
          if (keep.includes(w)) continue;
          this.waitingCount--;
          if (map === this.publicWaiting) this.handlers.alone(w.packet, this.publicSegment);
        }
        if (keep.length) map.set(key, keep);
        else map.delete(key);
      }
    }
  }
}
