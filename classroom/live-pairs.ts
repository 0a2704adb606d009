// Twin matching as packets arrive (lab/analysis/twins.ts matches whole files after a run):
// a VIP packet on the client's segment and its twin on the real servers' segment, in either
// arrival order (the two files are read one after the other). A packet still alone after the
// window is handed over by itself: the director answered it (a reset, an ICMP error) or
// dropped it. Memory is bounded: at most MAX_WAITING packets wait per side.
// An application helper (FTP's, director/apps/ftp.ts) changes a payload's length and so the
// sequence numbers of the rest of its connection (seq-adjust.ts): such a TCP packet has no
// exact twin, and is matched instead on what NAT keeps (client address and port, IP id, flags)
// with its seq/ack shifted by less than MAX_SHIFT (ftp-rewrite.ts explains the change).
import type { Packet } from "../lab/analysis/packet.ts";
import { SLACK_S, type TwinDirection, twinKey } from "../lab/analysis/twins.ts";

/** How long a packet waits for its twin, in seconds (capture time). */
export const WINDOW_S = 1;
const MAX_WAITING = 5000;
/** Largest seq/ack shift a helper's rewrites add up to (24 rewrites of 1 byte in ftp.yaml). */
const MAX_SHIFT = 1 << 16;

export interface LivePair {
  direction: TwinDirection;
  before: Packet;
  after: Packet;
  beforeSegment: string;
  afterSegment: string;
}

interface Waiting {
  packet: Packet;
  /** Every (map, key) it waits under: both directions' for a private packet, loose keys. */
  under: [Map<string, Waiting[]>, string][];
}

/** The key of a packet an application helper may have rewritten, or null (not TCP, id 0). */
function looseKey(p: Packet, direction: TwinDirection): string | null {
  return p.tcp && p.ipId !== 0 ? `${twinKey(p, direction, true)} flags ${p.tcp.flags} loose` : null;
}

/** How far a 32-bit TCP number moved, as a signed amount. */
export function shift(from: number, to: number): number {
  return ((to - from) << 0);
}

/** Seq and ack within MAX_SHIFT of each other: a helper's adjustment, not another packet. */
function shifted(a: Packet, b: Packet): boolean {
  return Math.abs(shift(a.tcp!.seq, b.tcp!.seq)) < MAX_SHIFT &&
    Math.abs(shift(a.tcp!.ack, b.tcp!.ack)) < MAX_SHIFT;
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
    const loose = looseKey(p, direction);
    const twin = this.take(this.privateWaiting, key, (c) => this.fits(p, direction, c)) ??
      (loose &&
        this.take(this.privateWaiting, loose, (c) => this.fits(p, direction, c) && shifted(p, c)));
    if (twin) return this.emit(direction, p, twin);
    const w: Waiting = { packet: p, under: [[this.publicWaiting, key]] };
    if (loose) w.under.push([this.publicWaiting, loose]);
    this.wait(w);
  }

  private addPrivate(p: Packet): void {
    const directions = ["to-server", "to-client"] as const;
    for (const direction of directions) {
      const key = twinKey(p, direction, false);
      const twin = this.take(this.publicWaiting, key, (c) => this.fits(c, direction, p));
      if (twin) return this.emit(direction, twin, p);
    }
    for (const direction of directions) {
      const loose = looseKey(p, direction);
      const twin = loose &&
        this.take(this.publicWaiting, loose, (c) => this.fits(c, direction, p) && shifted(c, p));
      if (twin) return this.emit(direction, twin, p);
    }
    // Unknown direction until a public packet claims it: waits under both directions' keys.
    const keys = directions.flatMap((d) => [twinKey(p, d, false), looseKey(p, d)])
      .filter((k): k is string => k !== null);
    this.wait({ packet: p, under: keys.map((k) => [this.privateWaiting, k]) });
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
    const w = map.get(key)?.find((w) => fits(w.packet));
    if (!w) return null;
    // Out of every list it waits in.
    for (const [m, k] of w.under) this.forget(m, k, w);
    this.waitingCount--;
    return w.packet;
  }

  private forget(map: Map<string, Waiting[]>, key: string, w: Waiting): void {
    const list = map.get(key);
    const i = list?.indexOf(w) ?? -1;
    if (!list || i < 0) return;
    list.splice(i, 1);
    if (list.length === 0) map.delete(key);
  }

  private wait(w: Waiting): void {
    if (this.waitingCount >= MAX_WAITING) this.expire(Infinity);
    for (const [map, key] of w.under) {
      const list = map.get(key);
      if (list) list.push(w);
      else map.set(key, [w]);
    }
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
      const old = new Set<Waiting>();
      for (const list of map.values()) {
        for (const w of list) if (now - w.packet.time > WINDOW_S) old.add(w);
      }
      for (const w of old) {
        for (const [m, k] of w.under) this.forget(m, k, w);
        this.waitingCount--;
        if (map === this.publicWaiting) this.handlers.alone(w.packet, this.publicSegment);
      }
    }
  }
}
