// IPv4 fragments follow their first fragment. Only the first fragment (offset 0) carries the
// TCP/UDP ports the connection lookup needs; later fragments of the same datagram share
// (src, dst, protocol, IP id) with it. When the engine handles a first fragment (MF set,
// offset 0) it remembers that key → connection slot; later fragments look the slot up and
// get the same address rewrite (rewriteFragmentAddresses: no L4 header to fix in them).
//
// Policy (documented for the engine and the drop counters):
// - Out-of-order arrival: a later fragment that comes before its first fragment finds no
//   entry; the engine drops it and counts DropReason.FRAGMENT. The sender's reassembly
//   timer then discards the datagram and the transport retransmits. (The kernel reassembles
//   instead; a userspace director holding fragments would need buffers per datagram.)
// - An entry lives ttlMs after its remember() (RFC 791's reassembly timeout is 15 s; the
//   kernel's ipfrag_time is 30 s, the default here), or until forget() — the engine calls
//   it on the last fragment (MF clear) if it wants the slot back early; a middle fragment
//   reordered behind the last one is then dropped like any out-of-order fragment.
// - Capacity: the tracker keeps the most recent `capacity` remember() calls; a new one
//   evicts the oldest entry still held (entries sit in a ring in insertion order, so the
//   ring position to reuse always holds the oldest). `evictions` counts live entries lost.
// - A slot may have been freed and reused by another connection before a fragment arrives:
//   the engine must check that the slot's connection still matches the fragment's
//   addresses (cheap: two array reads) before rewriting.
// No allocation after construction: keys and values in typed arrays, chained hashing with
// Int32Array links.
import { checksumReplace32 } from "../packet/checksum.ts";
import type { PacketView } from "../packet/packet.ts";

const NONE = -1;

/** What find() reports: the connection slot and the tag remembered with it. */
export interface FragmentMatch {
  slot: number;
  tag: number;
}

export function newFragmentMatch(): FragmentMatch {
  return { slot: NONE, tag: 0 };
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export class FragmentTracker {
  readonly capacity: number;
  readonly ttlMs: number;
  /** Live entries lost to capacity eviction (counter for the control API). */
  evictions = 0;
  /** What lookup() found last (find() reports into the caller's own FragmentMatch). */
  private readonly lastMatch = newFragmentMatch();

  private readonly mask: number;
  private readonly buckets: Int32Array;
  private readonly next: Int32Array;
  private readonly keySrc: Int32Array;
  private readonly keyDst: Int32Array;
  /** proto << 16 | id. */
  private readonly keyProtoId: Int32Array;
  private readonly slotOf: Int32Array;
  private readonly tagOf: Int32Array;
  private readonly expiresAt: Float64Array;
  private readonly live: Uint8Array;
  /** Ring position of the next entry to (re)use: the oldest one. */
  private head = 0;
  private liveCount = 0;

  constructor(capacity: number, ttlMs = 30_000) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new Error(`fragment tracker size must be a positive integer, got ${capacity}`);
    }
    if (!(ttlMs > 0)) throw new Error(`fragment timeout must be positive (ms), got ${ttlMs}`);
    this.capacity = capacity;
    this.ttlMs = ttlMs;
    const bucketCount = nextPowerOfTwo(Math.max(16, capacity * 2));
    this.mask = bucketCount - 1;
    this.buckets = new Int32Array(bucketCount).fill(NONE);
    this.next = new Int32Array(capacity).fill(NONE);
    this.keySrc = new Int32Array(capacity);
    this.keyDst = new Int32Array(capacity);
    this.keyProtoId = new Int32Array(capacity);
    this.slotOf = new Int32Array(capacity);
    this.tagOf = new Int32Array(capacity);
    this.expiresAt = new Float64Array(capacity);
    this.live = new Uint8Array(capacity);
  }

  /** Entries held (expired ones not yet swept included). */
  get size(): number {
    return this.liveCount;
  }

  private bucketOf(src: number, dst: number, protoId: number): number {
    let h = Math.imul(src ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13) ^ dst, 0xc2b2ae35);
    h = Math.imul(h ^ (h >>> 16) ^ protoId, 0x27d4eb2f);
    return (h ^ (h >>> 15)) & this.mask;
  }

  /** Unlinks entry e (live) from its chain. */
  private unlink(e: number): void {
    const b = this.bucketOf(this.keySrc[e]!, this.keyDst[e]!, this.keyProtoId[e]!);
    let cur = this.buckets[b]!;
    let prev = NONE;
    while (cur !== NONE && cur !== e) {
      prev = cur;
      cur = this.next[cur]!;
    }
    if (cur === NONE) return;
    if (prev === NONE) this.buckets[b] = this.next[e]!;
    else this.next[prev] = this.next[e]!;
    this.next[e] = NONE;
    this.live[e] = 0;
    this.liveCount--;
  }

  /** The live entry for a key, or NONE; removes an expired one it meets. */
  private findEntry(src: number, dst: number, protoId: number, nowMs: number): number {
    let e = this.buckets[this.bucketOf(src, dst, protoId)]!;
    while (e !== NONE) {
      if (this.keySrc[e] === src && this.keyDst[e] === dst && this.keyProtoId[e] === protoId) {
        if (nowMs >= this.expiresAt[e]!) {
          this.unlink(e);
          return NONE;
        }
        return e;
      }
      e = this.next[e]!;
    }
    return NONE;
  }

  /**
   * Records that fragments of datagram (src, dst, proto, id) belong to connection `slot`
   * (tag: any small integer the engine wants back, e.g. the direction). A key already held
   * is replaced (a retransmitted first fragment reuses its IP id only by accident).
   */
  remember(
    src: number,
    dst: number,
    proto: number,
    id: number,
    slot: number,
    nowMs: number,
    tag = 0,
  ): void {
    src |= 0;
    dst |= 0;
    const protoId = ((proto & 0xff) << 16) | (id & 0xffff);
    const old = this.findEntry(src, dst, protoId, nowMs);
    if (old !== NONE) this.unlink(old);
    const e = this.head;
    this.head = e + 1 === this.capacity ? 0 : e + 1;
    if (this.live[e] === 1) {
      if (nowMs < this.expiresAt[e]!) this.evictions++;
      this.unlink(e);
    }
    this.keySrc[e] = src;
    this.keyDst[e] = dst;
    this.keyProtoId[e] = protoId;
    this.slotOf[e] = slot;
    this.tagOf[e] = tag;
    this.expiresAt[e] = nowMs + this.ttlMs;
    this.live[e] = 1;
    const b = this.bucketOf(src, dst, protoId);
    this.next[e] = this.buckets[b]!;
    this.buckets[b] = e;
    this.liveCount++;
  }

  /**
   * Finds the entry of a later fragment: false when unknown or expired, else true with its
   * slot and tag in `out` (one object the caller reuses).
   */
  find(
    src: number,
    dst: number,
    proto: number,
    id: number,
    nowMs: number,
    out: FragmentMatch,
  ): boolean {
    const e = this.findEntry(src | 0, dst | 0, ((proto & 0xff) << 16) | (id & 0xffff), nowMs);
    if (e === NONE) return false;
    out.slot = this.slotOf[e]!;
    out.tag = this.tagOf[e]!;
    return true;
  }

  /** The connection slot of a later fragment, or -1 (unknown or expired); see lastTag. */
  lookup(src: number, dst: number, proto: number, id: number, nowMs: number): number {
    return this.find(src, dst, proto, id, nowMs, this.lastMatch) ? this.lastMatch.slot : NONE;
  }

  /** The tag of the entry the last successful lookup() found (e.g. a direction). */
  get lastTag(): number {
    return this.lastMatch.tag;
  }

  /** Drops the entry of a datagram (e.g. on its last fragment). */
  forget(src: number, dst: number, proto: number, id: number): void {
    const e = this.findEntry(src | 0, dst | 0, ((proto & 0xff) << 16) | (id & 0xffff), -Infinity);
    if (e !== NONE) this.unlink(e);
  }

  /** Drops every entry (e.g. when the service table is flushed). */
  clear(): void {
    this.buckets.fill(NONE);
    this.next.fill(NONE);
    this.live.fill(0);
    this.liveCount = 0;
    this.head = 0;
  }
}

/**
 * Rewrites the addresses of a fragment (either may be null = unchanged) and updates the IPv4
 * header checksum incrementally (RFC 1624). Nothing else: a non-first fragment has no L4
 * header; a first fragment's L4 checksum (pseudo-header) is the normal NAT path's job.
 */
export function rewriteFragmentAddresses(
  view: PacketView,
  newSrc: number | null,
  newDst: number | null,
): void {
  const ip = view.ip;
  let check = ip.checksum;
  if (newSrc !== null) {
    const old = ip.srcInt;
    ip.src = newSrc;
    check = checksumReplace32(check, old, newSrc >>> 0);
  }
  if (newDst !== null) {
    const old = ip.dstInt;
    ip.dst = newDst;
    check = checksumReplace32(check, old, newDst >>> 0);
  }
  ip.checksum = check;
}
