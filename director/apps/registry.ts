// director/apps/: application helpers (FTP today); start here. A new helper is a file beside
// ftp.ts, registered with this registry where the engine registers FTP (registerFtp).
//
// Application helpers (IPVS's ip_vs_app): protocol modules bound to a virtual port that see
// the payload of that port's connections, rewrite addresses carried in it, and announce the
// extra connections the protocol is about to open (FTP's data connections).
//
// The engine calls, per connection slot:
//   bind(slot)            when it creates a connection (scheduled or expected);
//   inbound/outbound()    for each packet of a connection with a helper, BEFORE the masq
//                         rewrite: sequence correction first, then the helper's look at the
//                         payload (app_tcp_pkt_in / app_tcp_pkt_out);
//   findPassive/findActive + consume   when a packet without a connection may be an
//                         expected data connection (the engine then creates it under the
//                         control connection: ConnTable.setController, IPVS's
//                         ip_vs_control_add, so the control entry outlives it);
//   release(slot)         when it removes a connection.
//
// Expectations replace IPVS's entries with a wildcard client port: they live in a pool of
// their own, so the connection table and its lookups stay as they are. Expectations never
// used die with their control connection (or after EXPECT_TIMEOUT_MS).
//
// All per-connection state is in typed arrays indexed by slot; connections without a helper
// cost one array read per packet.
import type { ConnTable } from "../engine/conn-table.ts";
import type { PacketView } from "../packet/packet.ts";
import { IPPROTO_TCP, IPPROTO_UDP } from "../packet/ipv4.ts";
import { SeqAdjust } from "./seq-adjust.ts";

export const NO_SLOT = -1;

/** A helper's verdict that the packet must be dropped (returned by pktIn/pktOut). */
export const APP_DROP = Number.NaN;

/** client → VIP:vport from any client port is given a connection to daddr:dport. */
export const EXPECT_PASSIVE = 1;
/** daddr:dport → caddr:cport (from the real server) is given a connection as VIP:vport. */
export const EXPECT_ACTIVE = 2;

/** How long an expectation waits for its connection (IPVS's LISTEN timeout, 2 min). */
export const EXPECT_TIMEOUT_MS = 120_000;
/** Pending expectations per control connection; a further one replaces the oldest. */
export const EXPECT_PER_CONTROL = 4;

export interface AppHelper {
  readonly name: string;
  /** A connection on one of the helper's ports now lives in `slot`: reset its state. */
  bindConn(slot: number): void;
  /**
   * Client → server packet with payload of a bound connection, sequence numbers already
   * corrected. May rewrite the payload (apps.replacePayload) and announce connections
   * (apps.expect). Returns the payload length change, or APP_DROP.
   */
  pktIn(apps: AppHelpers, slot: number, view: PacketView): number;
  /** Server → client counterpart of pktIn. */
  pktOut(apps: AppHelpers, slot: number, view: PacketView): number;
  /** The connection in `slot` is going away. */
  unbindConn(slot: number): void;
}

export interface AppCounters {
  /** Payload rewrites that changed or kept the length. */
  rewrites: number;
  /** Expectations announced, and those that became connections. */
  expected: number;
  expectedUsed: number;
  /** Expectations dropped unused (timeout, replaced, control connection gone). */
  expectedDropped: number;
  /** Packets dropped by a helper (e.g. a bad checksum before a rewrite, no room to grow). */
  dropped: number;
}

export class AppHelpers {
  readonly conns: ConnTable;
  readonly capacity: number;
  /** Helper id (index in `helpers` + 1) bound to each slot; 0 = none. */
  readonly helperOf: Uint8Array;
  readonly seq: SeqAdjust;
  private readonly helpers: AppHelper[] = [];
  /** Helper id per TCP / UDP virtual port. */
  private readonly tcpPorts = new Uint8Array(65536);
  private readonly udpPorts = new Uint8Array(65536);

  /** Pending expectations per control connection. */
  private readonly pendingOf: Uint8Array;

  // Expectations: a pool of entries in typed arrays, chained per (kind, port).
  readonly expectCapacity: number;
  readonly expKind: Uint8Array;
  readonly expControl: Int32Array;
  readonly expCaddr: Uint32Array;
  readonly expCport: Uint16Array;
  readonly expVaddr: Uint32Array;
  readonly expVport: Uint16Array;
  readonly expDaddr: Uint32Array;
  readonly expDport: Uint16Array;
  private readonly expExpires: Float64Array;
  private readonly expCreated: Float64Array;
  private readonly expNext: Int32Array;
  private readonly expHeads = new Int32Array(2 * 65536).fill(NO_SLOT);
  private readonly expFree: Int32Array;
  private expFreeCount: number;
  /** Live expectations; 0 lets the engine skip the lookups. */
  pending = 0;

  readonly counters: AppCounters = {
    rewrites: 0,
    expected: 0,
    expectedUsed: 0,
    expectedDropped: 0,
    dropped: 0,
  };
  /** The clock of the packet being handled (set by inbound/outbound). */
  nowMs = 0;

  constructor(conns: ConnTable, expectCapacity = 4096) {
    this.conns = conns;
    const capacity = conns.capacity;
    this.capacity = capacity;
    this.helperOf = new Uint8Array(capacity);
    this.seq = new SeqAdjust(capacity);
    this.pendingOf = new Uint8Array(capacity);
    this.expectCapacity = expectCapacity;
    this.expKind = new Uint8Array(expectCapacity);
    this.expControl = new Int32Array(expectCapacity).fill(NO_SLOT);
    this.expCaddr = new Uint32Array(expectCapacity);
    this.expCport = new Uint16Array(expectCapacity);
    this.expVaddr = new Uint32Array(expectCapacity);
    this.expVport = new Uint16Array(expectCapacity);
    this.expDaddr = new Uint32Array(expectCapacity);
    this.expDport = new Uint16Array(expectCapacity);
    this.expExpires = new Float64Array(expectCapacity);
    this.expCreated = new Float64Array(expectCapacity);
    this.expNext = new Int32Array(expectCapacity).fill(NO_SLOT);
    this.expFree = new Int32Array(expectCapacity);
    for (let i = 0; i < expectCapacity; i++) this.expFree[i] = expectCapacity - 1 - i;
    this.expFreeCount = expectCapacity;
  }

  /** Binds `helper` to a virtual port of every service (IPVS: one incarnation per port). */
  register(helper: AppHelper, proto: number, port: number): void {
    if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) {
      throw new Error(`helpers bind to TCP or UDP ports, not protocol ${proto}`);
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`helper port must be 1..65535, got ${port}`);
    }
    const ports = proto === IPPROTO_TCP ? this.tcpPorts : this.udpPorts;
    if (ports[port] !== 0) {
      const other = this.helpers[ports[port] - 1].name;
      throw new Error(`port ${port} already has the ${other} helper`);
    }
    let id = this.helpers.indexOf(helper) + 1;
    if (id === 0) {
      if (this.helpers.length === 255) throw new Error("too many helpers (255 at most)");
      this.helpers.push(helper);
      id = this.helpers.length;
    }
    ports[port] = id;
  }

  /** The helper bound to a virtual port, or null. */
  helperForPort(proto: number, port: number): AppHelper | null {
    const ports = proto === IPPROTO_TCP
      ? this.tcpPorts
      : proto === IPPROTO_UDP
      ? this.udpPorts
      : null;
    const id = ports === null ? 0 : ports[port & 0xffff];
    return id === 0 ? null : this.helpers[id - 1];
  }

  /** (protocol, port, helper name) of every registration, for listings. */
  registrations(): { proto: number; port: number; name: string }[] {
    const out: { proto: number; port: number; name: string }[] = [];
    for (let port = 1; port < 65536; port++) {
      if (this.tcpPorts[port] !== 0) {
        out.push({ proto: IPPROTO_TCP, port, name: this.helpers[this.tcpPorts[port] - 1].name });
      }
      if (this.udpPorts[port] !== 0) {
        out.push({ proto: IPPROTO_UDP, port, name: this.helpers[this.udpPorts[port] - 1].name });
      }
    }
    return out;
  }

  /**
   * A new connection lives in `slot` (already filled in the connection table): resets the
   * slot's state and binds the helper of its virtual port, if any.
   */
  bind(slot: number): void {
    const conns = this.conns;
    const proto = conns.proto[slot];
    const vport = conns.vport[slot];
    const id = proto === IPPROTO_TCP
      ? this.tcpPorts[vport]
      : proto === IPPROTO_UDP
      ? this.udpPorts[vport]
      : 0;
    this.helperOf[slot] = id;
    this.pendingOf[slot] = 0;
    if (id !== 0) {
      this.seq.reset(slot);
      this.helpers[id - 1].bindConn(slot);
    }
  }

  /**
   * A client → server packet of a connection with a helper, before the masq rewrite. Returns
   * false when the packet must be dropped. The packet may have changed length: write back
   * view.packetEnd bytes.
   */
  inbound(slot: number, view: PacketView, nowMs: number): boolean {
    const id = this.helperOf[slot];
    if (id === 0) return true;
    this.nowMs = nowMs;
    if (this.conns.proto[slot] !== IPPROTO_TCP) {
      return this.verdict(this.helpers[id - 1].pktIn(this, slot, view));
    }
    const seq0 = view.tcp.seq;
    this.seq.fixInbound(slot, view);
    // A first fragment holds part of the payload only: it cannot be rewritten (IPVS gathers
    // fragments first); the header fix above is all it gets.
    if (view.tcp.payloadLength <= 0 || view.ip.moreFragments) return true;
    const diff = this.helpers[id - 1].pktIn(this, slot, view);
    if (Number.isNaN(diff)) {
      this.counters.dropped++;
      return false;
    }
    this.seq.recordInbound(slot, seq0, diff);
    return true;
  }

  /** Server → client counterpart of inbound(). */
  outbound(slot: number, view: PacketView, nowMs: number): boolean {
    const id = this.helperOf[slot];
    if (id === 0) return true;
    this.nowMs = nowMs;
    if (this.conns.proto[slot] !== IPPROTO_TCP) {
      return this.verdict(this.helpers[id - 1].pktOut(this, slot, view));
    }
    const seq0 = view.tcp.seq;
    this.seq.fixOutbound(slot, view);
    if (view.tcp.payloadLength <= 0 || view.ip.moreFragments) return true;
    const diff = this.helpers[id - 1].pktOut(this, slot, view);
    if (Number.isNaN(diff)) {
      this.counters.dropped++;
      return false;
    }
    this.seq.recordOutbound(slot, seq0, diff);
    return true;
  }

  private verdict(diff: number): boolean {
    if (!Number.isNaN(diff)) return true;
    this.counters.dropped++;
    return false;
  }

  // ---- expectations -------------------------------------------------------------------

  /**
   * Announces a connection the control connection in `control` is about to cause (see
   * EXPECT_PASSIVE / EXPECT_ACTIVE; cport is ignored for passive ones). An identical
   * pending expectation is refreshed instead of duplicated (a retransmitted reply). Returns
   * false when the pool is full.
   */
  expect(
    kind: number,
    control: number,
    caddr: number,
    cport: number,
    vaddr: number,
    vport: number,
    daddr: number,
    dport: number,
  ): boolean {
    const now = this.nowMs;
    // Stored unsigned; the connection table hands them over signed.
    caddr >>>= 0;
    vaddr >>>= 0;
    daddr >>>= 0;
    const key = expKey(kind, kind === EXPECT_PASSIVE ? vport : cport);
    for (let i = this.expHeads[key]; i !== NO_SLOT; i = this.expNext[i]) {
      if (
        this.expControl[i] === control && this.expKind[i] === kind &&
        this.expCaddr[i] === caddr && this.expCport[i] === cport &&
        this.expVaddr[i] === vaddr && this.expVport[i] === vport &&
        this.expDaddr[i] === daddr && this.expDport[i] === dport
      ) {
        this.expExpires[i] = now + EXPECT_TIMEOUT_MS;
        return true;
      }
    }
    if (this.pendingOf[control] >= EXPECT_PER_CONTROL) this.dropOldestOf(control);
    if (this.expFreeCount === 0) this.sweepExpired(now);
    if (this.expFreeCount === 0) return false;
    const i = this.expFree[--this.expFreeCount];
    this.expKind[i] = kind;
    this.expControl[i] = control;
    this.expCaddr[i] = caddr >>> 0;
    this.expCport[i] = kind === EXPECT_PASSIVE ? 0 : cport;
    this.expVaddr[i] = vaddr >>> 0;
    this.expVport[i] = vport;
    this.expDaddr[i] = daddr >>> 0;
    this.expDport[i] = dport;
    this.expCreated[i] = now;
    this.expExpires[i] = now + EXPECT_TIMEOUT_MS;
    this.expNext[i] = this.expHeads[key];
    this.expHeads[key] = i;
    this.pendingOf[control]++;
    this.pending++;
    this.counters.expected++;
    return true;
  }

  /**
   * A pending passive expectation for a client packet caddr → vaddr:vport, or NO_SLOT.
   * Expired entries met on the way are dropped.
   */
  findPassive(caddr: number, vaddr: number, vport: number, nowMs: number): number {
    let i = this.expHeads[expKey(EXPECT_PASSIVE, vport)];
    while (i !== NO_SLOT) {
      const next = this.expNext[i];
      if (this.expExpires[i] <= nowMs) {
        this.dropExpectation(i);
      } else if (
        this.expKind[i] === EXPECT_PASSIVE && this.expVport[i] === vport &&
        this.expCaddr[i] === caddr >>> 0 && this.expVaddr[i] === vaddr >>> 0
      ) return i;
      i = next;
    }
    return NO_SLOT;
  }

  /** A pending active expectation for a real-server packet daddr:dport → caddr:cport. */
  findActive(caddr: number, cport: number, daddr: number, dport: number, nowMs: number): number {
    let i = this.expHeads[expKey(EXPECT_ACTIVE, cport)];
    while (i !== NO_SLOT) {
      const next = this.expNext[i];
      if (this.expExpires[i] <= nowMs) {
        this.dropExpectation(i);
      } else if (
        this.expKind[i] === EXPECT_ACTIVE && this.expCport[i] === cport &&
        this.expCaddr[i] === caddr >>> 0 && this.expDaddr[i] === daddr >>> 0 &&
        this.expDport[i] === dport
      ) return i;
      i = next;
    }
    return NO_SLOT;
  }

  /** The expectation became a connection: it is removed (one connection per expectation). */
  consume(i: number): void {
    this.unlinkExpectation(i);
    this.counters.expectedUsed++;
  }

  /** Pending expectations of a control connection. */
  pendingFor(control: number): number {
    return this.pendingOf[control];
  }

  /** The connection in `slot` is being removed: its helper state and expectations go. */
  release(slot: number): void {
    const id = this.helperOf[slot];
    if (id !== 0) {
      this.helpers[id - 1].unbindConn(slot);
      this.helperOf[slot] = 0;
      this.seq.reset(slot);
    }
    if (this.pendingOf[slot] > 0) this.dropAllOf(slot);
  }

  private unlinkExpectation(i: number): void {
    const kind = this.expKind[i];
    const key = expKey(kind, kind === EXPECT_PASSIVE ? this.expVport[i] : this.expCport[i]);
    let cur = this.expHeads[key];
    let prev = NO_SLOT;
    while (cur !== NO_SLOT && cur !== i) {
      prev = cur;
      cur = this.expNext[cur];
    }
    if (cur === NO_SLOT) return;
    if (prev === NO_SLOT) this.expHeads[key] = this.expNext[i];
    else this.expNext[prev] = this.expNext[i];
    this.expNext[i] = NO_SLOT;
    this.expKind[i] = 0;
    this.pendingOf[this.expControl[i]]--;
    this.expControl[i] = NO_SLOT;
    this.expFree[this.expFreeCount++] = i;
    this.pending--;
  }

  private dropExpectation(i: number): void {
    this.unlinkExpectation(i);
    this.counters.expectedDropped++;
  }

  // The scans below run over the whole pool; they happen only when a control connection
  // with unused expectations goes away, overflows its share, or the pool is full.
  private dropAllOf(control: number): void {
    for (let i = 0; i < this.expectCapacity && this.pendingOf[control] > 0; i++) {
      if (this.expKind[i] !== 0 && this.expControl[i] === control) this.dropExpectation(i);
    }
  }

  private dropOldestOf(control: number): void {
    let oldest = NO_SLOT;
    for (let i = 0; i < this.expectCapacity; i++) {
      if (
        this.expKind[i] !== 0 && this.expControl[i] === control &&
        (oldest === NO_SLOT || this.expCreated[i] < this.expCreated[oldest])
      ) oldest = i;
    }
    if (oldest !== NO_SLOT) this.dropExpectation(oldest);
  }

  private sweepExpired(nowMs: number): void {
    for (let i = 0; i < this.expectCapacity; i++) {
      if (this.expKind[i] !== 0 && this.expExpires[i] <= nowMs) this.dropExpectation(i);
    }
  }
}

function expKey(kind: number, port: number): number {
  return ((kind - 1) << 16) | (port & 0xffff);
}
