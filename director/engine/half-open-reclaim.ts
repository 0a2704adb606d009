// Half-open reclaim, beside the connection table (the idea of IPVS's ip_vs_random_dropentry
// in ip_vs_conn.c): when the table is full, one half-open TCP entry (SYN_RECV and the like)
// may be freed so a SYN flood cannot keep new legitimate clients out. Established entries
// are never taken, nor half-open ones younger than RECLAIM_MIN_AGE_MS. A bounded number of
// random slots is sampled; the caller expires the entry found (it owns the server counts).
import { CONN_F_TEMPLATE, type ConnTable, NO_SLOT } from "./conn-table.ts";
import type { TimerWheel } from "./timer-wheel.ts";
import { IPPROTO_TCP } from "../packet/ipv4.ts";
import { TCP_S_NONE, TCP_S_SYN_RECV, TCP_S_SYNACK } from "../protocols/tcp-state.ts";

/** Random slots looked at to find a half-open entry to reclaim when the table is full. */
const RECLAIM_PROBES = 64;
/**
 * Only entries half-open for this long are reclaimed: a real client's handshake completes in
 * a round trip, a spoofed one never does, so a young half-open entry is most likely real.
 */
const RECLAIM_MIN_AGE_MS = 500;

export class HalfOpenReclaim {
  private cursor = 0x2545f491;

  /** `tcpTimeoutMs`: the engine's timeout per TCP state in ms (kept up to date in place). */
  constructor(
    private readonly conns: ConnTable,
    private readonly wheel: TimerWheel,
    private readonly tcpTimeoutMs: Float64Array,
  ) {}

  /** A half-open entry old enough to free, or NO_SLOT when the probes found none. */
  findVictim(nowMs: number): number {
    const conns = this.conns;
    for (let probe = 0; probe < RECLAIM_PROBES; probe++) {
      this.cursor = (Math.imul(this.cursor, 1103515245) + 12345) >>> 0;
      const slot = this.cursor % conns.capacity;
      if (
        !conns.isLive(slot) || conns.proto[slot] !== IPPROTO_TCP ||
        (conns.flags[slot] & CONN_F_TEMPLATE) !== 0
      ) continue;
      const state = conns.state[slot];
      if (
        (state === TCP_S_SYN_RECV || state === TCP_S_NONE || state === TCP_S_SYNACK) &&
        this.tcpTimeoutMs[state] - (this.wheel.expiresAt(slot) - nowMs) >= RECLAIM_MIN_AGE_MS
      ) return slot;
    }
    return NO_SLOT;
  }
}
