// The director's packet engine: one call per packet read from the TUN device. It finds the
// packet's connection (or schedules a new one), tracks protocol state and expiry, rewrites
// the packet in place with the connection's forwarding method and tells the caller how many
// bytes to write back. Nothing here allocates on the steady path.
import {
  CONN_F_INACTIVE,
  CONN_F_INVALID,
  CONN_F_NOOUTPUT,
  CONN_F_TEMPLATE,
  ConnTable,
  NO_SLOT,
} from "./conn-table.ts";
import { DropCounters, DropReason } from "./drop-counters.ts";
import { TimerWheel } from "./timer-wheel.ts";
import { PacketView } from "../packet/packet.ts";
import { rewriteInboundMasq, rewriteOutboundMasq } from "../forwarding/masq.ts";
import { type ServiceEntry, ServiceTable } from "../service/service-table.ts";
import { isExpiringScheduler } from "../schedulers/index.ts";
import {
  clearOverloadAfterUnbind,
  type Destination,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  markOverloadAfterBind,
  newStats,
  type VirtualService,
} from "../service/types.ts";
import { ESTIMATOR_INTERVAL_MS, RateEstimator } from "../service/rate-estimator.ts";
import { FragmentTracker, rewriteFragmentAddresses } from "./fragment-tracker.ts";
import {
  EmbeddedPacket,
  ICMP_ERROR_NONE,
  ICMP_ERROR_RELATED,
  translateIcmpFromRealServer,
  translateIcmpToRealServer,
} from "../icmp/icmp-translate.ts";
import { ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_PORT_UNREACH } from "../packet/icmp.ts";
import { writeTcpReset } from "../replies/tcp-reset.ts";
import { writeIcmpError } from "../replies/icmp-unreachable.ts";
import { writeEchoReply } from "../replies/echo-reply.ts";
import {
  applyActiveDelta,
  DIR_INPUT,
  DIR_OUTPUT,
  newTcpTransition,
  setTcpState,
  TCP_S_CLOSE,
  TCP_S_NONE,
  TCP_S_SYN_RECV,
  TCP_S_SYNACK,
  TCP_S_TIME_WAIT,
  TCP_STATES_NORMAL,
  TCP_STATES_SECURE,
  type TcpStateTable,
} from "../protocols/tcp-state.ts";
import { UDP_STATE } from "../protocols/udp-state.ts";
import { defaultTimeouts, type Timeouts, timeoutSecondsForState } from "../protocols/timeouts.ts";
import { AppHelpers } from "../apps/registry.ts";
import { registerFtp } from "../apps/ftp.ts";

export { CONN_F_INACTIVE, CONN_F_NOOUTPUT, CONN_F_TEMPLATE } from "./conn-table.ts";

const TCP_FLAG_SYN = 0x02;
const TCP_FLAG_RST = 0x04;
const TCP_FLAG_ACK = 0x10;
/** Random slots looked at to find a half-open entry to reclaim when the table is full. */
const RECLAIM_PROBES = 64;
/**
 * Only entries half-open for this long are reclaimed: a real client's handshake completes in
 * a round trip, a spoofed one never does, so a young half-open entry is most likely real.
 */
const RECLAIM_MIN_AGE_MS = 500;
const REFUSE_SILENTLY = 0;
const REFUSE_PORT_CLOSED = 1;
const REFUSE_UNREACHABLE = 2;
/** keepConnection() verdicts: use the entry, schedule the packet anew, or drop it. */
const ENTRY_USE = 0;
const ENTRY_RESCHEDULE = 1;
const ENTRY_DROP_PACKET = 2;
/** A brand-new connection lives 3 s until its first state transition (IPVS). */
const NEW_CONN_TIMEOUT_MS = 3000;
/** The FTP control port: a persistent FTP service's template covers every port (IPVS). */
const FTP_PORT = 21;
/** How often slow per-service upkeep runs. */
const HOUSEKEEPING_INTERVAL_MS = 1000;

export interface EngineOptions {
  maxConnections: number;
  timeouts?: Timeouts;
  secureTcp?: boolean;
  nowMs?: number;
}

export class DirectorEngine {
  readonly services = new ServiceTable();
  readonly conns: ConnTable;
  readonly wheel: TimerWheel;
  readonly drops = new DropCounters();
  readonly timeouts: Timeouts;
  /** Timeout per TCP state in ms, rebuilt when timeouts change. */
  private tcpTimeoutMs = new Float64Array(16);
  private udpTimeoutMs = 300_000;
  private tcpStates: TcpStateTable;
  private readonly view = new PacketView();
  private readonly embedded = new EmbeddedPacket();
  /** Fragments after the first follow the connection of their first fragment. */
  readonly frags = new FragmentTracker(4096, 30_000);
  /** Application helpers (IPVS's ip_vs_app): FTP on virtual port 21. */
  readonly apps: AppHelpers;
  /** How schedule() said no, for refuse(). */
  private refusal = REFUSE_SILENTLY;
  /** RSTs and ICMP errors sent for refused packets. */
  refusalsSent = 0;
  private readonly tcpTransition = newTcpTransition();
  private nowMs: number;
  private lastHousekeepingMs = 0;
  private lastEstimateMs = 0;
  /** Counters over all services (ipvsadm --stats' totals). */
  readonly totals = newStats();
  readonly totalsEstimator = new RateEstimator();
  private reclaimCursor = 0x2545f491;
  /** IPVS's expire_nodest_conn sysctl: expire entries whose real server was deleted. */
  expireNodestConn = false;
  /** IPVS's expire_quiescent_template sysctl: a template whose server has weight 0 is dropped. */
  expireQuiescentTemplate = false;
  /** The template schedule() used for the connection it is creating (NO_SLOT: none). */
  private templateSlot = NO_SLOT;
  /** Half-open entries freed to make room while the table was full. */
  reclaimedHalfOpen = 0;
  private readonly expireOne = (slot: number) => this.timerExpired(slot);

  constructor(options: EngineOptions) {
    this.conns = new ConnTable(options.maxConnections);
    this.apps = new AppHelpers(this.conns);
    registerFtp(this.apps);
    this.nowMs = options.nowMs ?? Date.now();
    this.wheel = new TimerWheel(options.maxConnections, 100, 4096, this.nowMs);
    this.timeouts = { ...(options.timeouts ?? defaultTimeouts()) };
    this.tcpStates = options.secureTcp ? TCP_STATES_SECURE : TCP_STATES_NORMAL;
    this.refreshTimeouts();
  }

  /** Call after changing `timeouts` (ipvsadm --set). */
  refreshTimeouts(): void {
    for (let state = 0; state < this.tcpTimeoutMs.length; state++) {
      this.tcpTimeoutMs[state] = timeoutSecondsForState(this.timeouts, state) * 1000;
    }
    this.udpTimeoutMs = this.timeouts.udp * 1000;
  }

  /** Advances the clock and expires due connections. Cheap enough to call per batch. */
  tick(nowMs: number): void {
    this.nowMs = nowMs;
    this.wheel.advance(nowMs, this.expireOne);
    if (nowMs - this.lastEstimateMs >= ESTIMATOR_INTERVAL_MS) {
      this.lastEstimateMs = nowMs;
      this.sampleRates();
    }
    if (nowMs - this.lastHousekeepingMs >= HOUSEKEEPING_INTERVAL_MS) {
      this.lastHousekeepingMs = nowMs;
      // lblc/lblcr age their locality tables (they rate-limit themselves further).
      for (const { scheduler } of this.services.entries) {
        if (isExpiringScheduler(scheduler)) scheduler.expire(nowMs);
      }
    }
  }

  /** Counts a client → server packet for its real server, service and the totals. */
  private countInbound(slot: number, ipLength: number): void {
    const dest = this.conns.dest[slot]!.stats;
    const svc = this.conns.service[slot]!.stats;
    const totals = this.totals;
    dest.inpkts++;
    dest.inbytes += ipLength;
    svc.inpkts++;
    svc.inbytes += ipLength;
    totals.inpkts++;
    totals.inbytes += ipLength;
  }

  /** Counts a server → client packet. */
  private countOutbound(slot: number, ipLength: number): void {
    const dest = this.conns.dest[slot]!.stats;
    const svc = this.conns.service[slot]!.stats;
    const totals = this.totals;
    dest.outpkts++;
    dest.outbytes += ipLength;
    svc.outpkts++;
    svc.outbytes += ipLength;
    totals.outpkts++;
    totals.outbytes += ipLength;
  }

  /** One estimator sample for every service, real server and the totals. */
  private sampleRates(): void {
    this.totalsEstimator.sample(this.totals);
    for (const { service } of this.services.entries) {
      service.estimator.sample(service.stats);
      for (const dest of service.destinations) dest.estimator.sample(dest.stats);
    }
  }

  get now(): number {
    return this.nowMs;
  }

  /**
   * Handles one packet in buf[0, length) (vnet header first). Rewrites it in place and
   * returns the number of bytes to write back to the TUN device, or 0 to drop it.
   */
  process(buf: Uint8Array, length: number): number {
    const view = this.view;
    const error = view.parse(buf, length);
    if (error !== 0) {
      this.drops.count(error);
      return 0;
    }
    const ip = view.ip;
    const proto = ip.protocol;
    if (proto === IPPROTO_ICMP) return this.icmp(buf, length);
    if (!view.l4Present) return this.laterFragment(proto, length);
    let sport: number;
    let dport: number;
    if (proto === IPPROTO_TCP) {
      sport = view.tcp.srcPort;
      dport = view.tcp.dstPort;
    } else {
      sport = view.udp.srcPort;
      dport = view.udp.dstPort;
    }
    // Signed forms: small integers all the way through the packet path (no heap numbers).
    const src = ip.srcInt;
    const dst = ip.dstInt;
    if (this.services.isVirtualAddress(dst)) {
      return this.inbound(proto, src, sport, dst, dport, length);
    }
    return this.outbound(proto, src, sport, dst, dport, length);
  }

  /** Client → virtual service. */
  private inbound(
    proto: number,
    src: number,
    sport: number,
    dst: number,
    dport: number,
    length: number,
  ): number {
    const conns = this.conns;
    let slot = conns.findInbound(proto, src, sport, dst, dport);
    const tcpFlags = proto === IPPROTO_TCP ? this.view.tcp.flags : 0;
    if (slot !== NO_SLOT) {
      const verdict = this.keepConnection(slot, proto, tcpFlags);
      if (verdict === ENTRY_DROP_PACKET) return 0; // dropped, the entry stays
      if (verdict === ENTRY_RESCHEDULE) slot = NO_SLOT; // this packet starts a new connection
    }
    if (slot === NO_SLOT) {
      // [apps] A data connection an FTP control connection announced (passive mode).
      if (this.apps.pending !== 0) {
        slot = this.adoptPassive(proto, src, sport, dst, dport, tcpFlags);
      }
      if (slot === NO_SLOT) slot = this.schedule(proto, src, sport, dst, dport, tcpFlags);
      if (slot === NO_SLOT) return this.refuse(proto, dst);
    }
    return this.forward(slot, proto, src, dst, tcpFlags, DIR_INPUT, length);
  }

  /** Real server → client: a reply of a NAT connection. */
  private outbound(
    proto: number,
    src: number,
    sport: number,
    dst: number,
    dport: number,
    length: number,
  ): number {
    const conns = this.conns;
    let slot = conns.findOutbound(proto, dst, dport, src, sport);
    // [apps] A data connection an FTP control connection announced (active mode, from :20).
    if (slot === NO_SLOT && this.apps.pending !== 0) {
      slot = this.adoptActive(proto, src, sport, dst, dport);
    }
    if (slot === NO_SLOT) {
      this.drops.count(DropReason.NO_CONNECTION);
      return 0;
    }
    const tcpFlags = proto === IPPROTO_TCP ? this.view.tcp.flags : 0;
    return this.forward(slot, proto, src, dst, tcpFlags, DIR_OUTPUT, length);
  }

  /**
   * A packet of connection `slot`, either way: state and expiry, fragment bookkeeping,
   * counters, the application helper, then the NAT rewrite. Returns the bytes to write.
   */
  private forward(
    slot: number,
    proto: number,
    src: number,
    dst: number,
    tcpFlags: number,
    direction: number,
    length: number,
  ): number {
    const conns = this.conns;
    const view = this.view;
    const inbound = direction === DIR_INPUT;
    this.transition(slot, conns.dest[slot]!, proto, tcpFlags, direction);
    if (view.ip.moreFragments) {
      this.frags.remember(src, dst, proto, view.ip.id, slot, this.nowMs, direction);
    }
    if (inbound) this.countInbound(slot, view.ip.totalLength);
    else this.countOutbound(slot, view.ip.totalLength);
    // [apps] A helper's connection: sequence correction and payload rewrite come before the
    // NAT rewrite (tcp_dnat_handler/tcp_snat_handler call ip_vs_app_pkt_in/out first); the
    // length may change.
    let out = length;
    if (this.apps.helperOf[slot] !== 0) {
      const ok = inbound
        ? this.apps.inbound(slot, view, this.nowMs)
        : this.apps.outbound(slot, view, this.nowMs);
      if (!ok) return 0;
      out = view.packetEnd;
    }
    if (inbound) rewriteInboundMasq(view, conns.daddr[slot], conns.dport[slot]);
    else rewriteOutboundMasq(view, conns.vaddr[slot], conns.vport[slot]);
    return out;
  }

  /**
   * Answers a packet the director will not forward, as the kernel would: a closed TCP port
   * gets a RST, a closed UDP port or a service without servers gets ICMP port unreachable.
   * The reply is written over the packet; returns its length (0 = stay silent).
   */
  private refuse(proto: number, vip: number): number {
    const kind = this.refusal;
    this.refusal = REFUSE_SILENTLY;
    let n = 0;
    if (kind === REFUSE_PORT_CLOSED && proto === IPPROTO_TCP) {
      n = writeTcpReset(this.view, this.view.buf);
    } else if (kind !== REFUSE_SILENTLY) {
      n = writeIcmpError(this.view, this.view.buf, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, vip);
    }
    if (n > 0) this.refusalsSent++;
    return n;
  }

  /** A non-first fragment: it follows the connection its first fragment was given. */
  private laterFragment(proto: number, length: number): number {
    const ip = this.view.ip;
    const src = ip.srcInt;
    const dst = ip.dstInt;
    const conns = this.conns;
    const slot = this.frags.lookup(src, dst, proto, ip.id, this.nowMs);
    // The slot may have been freed and reused since: check it is still this flow's.
    if (slot === NO_SLOT || !conns.isLive(slot) || conns.proto[slot] !== proto) {
      this.drops.count(DropReason.FRAGMENT);
      return 0;
    }
    const ipLength = ip.totalLength;
    if (
      this.frags.lastTag === DIR_INPUT && conns.caddr[slot] === src && conns.vaddr[slot] === dst
    ) {
      rewriteFragmentAddresses(this.view, null, conns.daddr[slot]);
      this.countInbound(slot, ipLength);
      return length;
    }
    if (
      this.frags.lastTag === DIR_OUTPUT && conns.daddr[slot] === src && conns.caddr[slot] === dst
    ) {
      rewriteFragmentAddresses(this.view, conns.vaddr[slot], null);
      this.countOutbound(slot, ipLength);
      return length;
    }
    this.drops.count(DropReason.FRAGMENT);
    return 0;
  }

  /**
   * ICMP: errors about a connection are translated (outer and quoted headers, ports and
   * checksums, as ip_vs_in_icmp/ip_vs_out_icmp); echo requests to a VIP are answered; other
   * ICMP not addressed to a VIP passes unchanged (the host routes it as usual).
   */
  private icmp(buf: Uint8Array, length: number): number {
    const view = this.view;
    const emb = this.embedded;
    const conns = this.conns;
    if (emb.bind(view)) {
      let slot: number;
      if (this.services.isVirtualAddress(emb.src)) {
        // From the client side, about a reply the director sent (quoted src = VIP:vport).
        slot = conns.findInbound(emb.proto, emb.dst, emb.dstPort, emb.src, emb.srcPort);
        if (
          slot !== NO_SLOT &&
          translateIcmpToRealServer(view, emb, conns.daddr[slot], conns.dport[slot])
        ) {
          return view.packetEnd;
        }
      } else {
        // From the private side, about a packet forwarded to a real server.
        slot = conns.findOutbound(emb.proto, emb.src, emb.srcPort, emb.dst, emb.dstPort);
        if (
          slot !== NO_SLOT &&
          translateIcmpFromRealServer(view, emb, conns.vaddr[slot], conns.vport[slot])
        ) {
          return view.packetEnd;
        }
      }
      if (this.services.isVirtualAddress(view.ip.dst)) {
        this.drops.count(DropReason.ICMP_UNRELATED);
        return 0;
      }
      return length;
    }
    if (this.services.isVirtualAddress(view.ip.dst)) {
      const n = view.icmp.type === ICMP_ECHO ? writeEchoReply(view, buf) : 0;
      if (n === 0) this.drops.count(DropReason.ICMP_UNRELATED);
      return n;
    }
    if (emb.result !== ICMP_ERROR_NONE && emb.result !== ICMP_ERROR_RELATED) {
      this.drops.count(DropReason.ICMP_UNRELATED);
      return 0;
    }
    return length;
  }

  /** Decides what a client packet does with its existing entry: an ENTRY_* verdict. */
  private keepConnection(slot: number, proto: number, tcpFlags: number): number {
    const conns = this.conns;
    const dest = conns.dest[slot]!;
    // conn_reuse_mode 1 comes first, as in ip_vs_in(): a fresh SYN on an entry in TIME_WAIT
    // or CLOSE is a new connection (whatever became of the entry's server), and so is one on
    // an entry whose server has weight 0 when expire_nodest_conn is set.
    if (
      proto === IPPROTO_TCP &&
      (tcpFlags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) === TCP_FLAG_SYN
    ) {
      const state = conns.state[slot];
      if (
        state === TCP_S_TIME_WAIT || state === TCP_S_CLOSE ||
        (this.expireNodestConn && dest.weight === 0)
      ) {
        // An entry that still controls others stays until they are gone; the new
        // connection's entry is found first (it goes to the head of the chain).
        if (conns.controlledCount[slot] === 0) this.expire(slot);
        return ENTRY_RESCHEDULE;
      }
    }
    if (!dest.available) {
      // The real server was deleted (ipvsadm -d). expire_nodest_conn=0 keeps the entry
      // and drops its packets, so the server can be added back; 1 expires it at once.
      if (!this.expireNodestConn) {
        this.drops.count(DropReason.DESTINATION_REMOVED);
        return ENTRY_DROP_PACKET;
      }
      this.expire(slot);
      return ENTRY_RESCHEDULE;
    }
    return ENTRY_USE;
  }

  /**
   * Frees one half-open entry (SYN_RECV and the like) when the table is full, so a SYN flood
   * cannot keep new legitimate clients out; established entries are never taken, nor
   * half-open ones younger than RECLAIM_MIN_AGE_MS (the idea of IPVS's drop_entry defence).
   * Samples a bounded number of random slots.
   */
  private reclaimHalfOpen(): boolean {
    const conns = this.conns;
    for (let probe = 0; probe < RECLAIM_PROBES; probe++) {
      this.reclaimCursor = (Math.imul(this.reclaimCursor, 1103515245) + 12345) >>> 0;
      const slot = this.reclaimCursor % conns.capacity;
      if (
        !conns.isLive(slot) || conns.proto[slot] !== IPPROTO_TCP ||
        (conns.flags[slot] & CONN_F_TEMPLATE) !== 0
      ) continue;
      const state = conns.state[slot];
      if (
        (state === TCP_S_SYN_RECV || state === TCP_S_NONE || state === TCP_S_SYNACK) &&
        this.timeoutMsOf(slot) - (this.wheel.expiresAt(slot) - this.nowMs) >= RECLAIM_MIN_AGE_MS
      ) {
        this.expire(slot);
        this.reclaimedHalfOpen++;
        return true;
      }
    }
    return false;
  }

  /** A packet with no connection: find its service, pick a real server, create the entry. */
  private schedule(
    proto: number,
    src: number,
    sport: number,
    dst: number,
    dport: number,
    tcpFlags: number,
  ): number {
    let entry = this.services.lookup(proto, dst, dport);
    // A persistent port-zero service catches every port of its address (nullsvc in IPVS).
    if (entry === undefined) entry = this.services.lookup(proto, dst, 0);
    // A persistent FTP service also takes its clients' data connections (port 20 or an
    // unprivileged port), so they reach the server the template chose (ftpsvc in IPVS).
    if (entry === undefined && proto === IPPROTO_TCP && (dport === 20 || dport >= 1024)) {
      const ftp = this.services.lookup(proto, dst, FTP_PORT);
      if (ftp !== undefined && ftp.service.persistTimeout > 0) entry = ftp;
    }
    if (entry === undefined) {
      this.drops.count(DropReason.NO_SERVICE);
      this.refusal = REFUSE_PORT_CLOSED;
      return NO_SLOT;
    }
    // IPVS schedules TCP only on a SYN; a stray segment goes to the director's own stack,
    // which answers with a RST.
    if (proto === IPPROTO_TCP && (tcpFlags & TCP_FLAG_SYN) === 0) {
      this.drops.count(DropReason.NOT_SYN);
      this.refusal = (tcpFlags & TCP_FLAG_RST) === 0 ? REFUSE_PORT_CLOSED : REFUSE_SILENTLY;
      return NO_SLOT;
    }
    const svc = entry.service;
    this.templateSlot = NO_SLOT;
    const dest = svc.persistTimeout > 0
      ? this.schedulePersistent(entry, src, sport, dst, dport)
      : entry.scheduler.schedule(svc, src, sport, dst, dport);
    if (dest === null) {
      // ip_vs_leave(): no real server can take it, ICMP port unreachable for TCP and UDP.
      this.drops.count(DropReason.NO_DESTINATION);
      this.refusal = REFUSE_UNREACHABLE;
      return NO_SLOT;
    }
    if (dest.method !== "masq") {
      this.drops.count(DropReason.METHOD_UNSUPPORTED);
      this.refusal = REFUSE_SILENTLY;
      return NO_SLOT;
    }
    if (this.conns.isFull && proto === IPPROTO_TCP) this.reclaimHalfOpen();
    // Caught by a port-zero or FTP service, the connection keeps the port the client asked for.
    const rport = dport === svc.port && dest.port !== 0 ? dest.port : dport;
    const slot = this.conns.insert(proto, src, sport, dst, dport, dest.addr, rport);
    if (slot === NO_SLOT) {
      this.drops.count(DropReason.TABLE_FULL);
      this.refusal = REFUSE_SILENTLY;
      return NO_SLOT;
    }
    this.bindConnection(slot, proto, dest, svc, this.templateSlot);
    return slot;
  }

  /**
   * Ties a new entry to its real server and service (ip_vs_bind_dest): helper, controller,
   * initial state and flags, the server's counts, and the 3 s life of a brand-new entry.
   */
  private bindConnection(
    slot: number,
    proto: number,
    dest: Destination,
    svc: VirtualService,
    controller: number,
  ): void {
    const conns = this.conns;
    conns.dest[slot] = dest;
    conns.service[slot] = svc;
    this.apps.bind(slot); // [apps] binds the helper of the virtual port, if any
    if (controller !== NO_SLOT) conns.setController(slot, controller);
    conns.state[slot] = proto === IPPROTO_UDP ? UDP_STATE : 0;
    // IPVS's dest conn_flags: a new connection starts inactive (UDP ones stay so); methods
    // whose replies bypass the director start "no output".
    conns.flags[slot] = CONN_F_INACTIVE | (dest.method === "masq" ? 0 : CONN_F_NOOUTPUT);
    dest.inactiveConns++;
    markOverloadAfterBind(dest);
    dest.stats.conns++;
    svc.stats.conns++;
    this.totals.conns++;
    this.wheel.schedule(slot, this.nowMs + NEW_CONN_TIMEOUT_MS);
  }

  /**
   * Persistence (ip_vs_sched_persist): a client network keeps its real server while its
   * template lives. The template is an entry keyed (protocol, client address & netmask, port 0,
   * VIP, VIP port); FTP services and port-zero services key on VIP port 0 so that every port
   * of the VIP (the FTP data connections) follows the client's template.
   */
  private schedulePersistent(
    entry: ServiceEntry,
    src: number,
    sport: number,
    dst: number,
    dport: number,
  ): Destination | null {
    const svc = entry.service;
    const conns = this.conns;
    const cnet = src & svc.persistNetmask; // signed, as the table stores addresses
    const allPorts = svc.port === FTP_PORT || svc.port === 0;
    const tport = allPorts ? 0 : svc.port;
    let template = conns.findTemplate(entry.protocolNumber, cnet, dst, tport);
    if (template !== NO_SLOT && !this.templateUsable(template)) template = NO_SLOT;
    let dest: Destination;
    if (template === NO_SLOT) {
      const picked = entry.scheduler.schedule(svc, src, sport, dst, dport);
      if (picked === null) return null;
      dest = picked;
      if (conns.isFull) this.reclaimHalfOpen();
      template = conns.insert(
        entry.protocolNumber,
        cnet,
        0,
        dst,
        tport,
        dest.addr,
        allPorts ? 0 : dest.port,
      );
      if (template === NO_SLOT) return dest; // table full: the insert below reports it
      conns.dest[template] = dest;
      conns.service[template] = svc;
      conns.flags[template] = CONN_F_TEMPLATE;
      dest.persistConns++;
    } else {
      dest = conns.dest[template]!;
    }
    // Each use restarts the template's timer (ip_vs_conn_put on the template).
    this.wheel.schedule(template, this.nowMs + svc.persistTimeout * 1000);
    this.templateSlot = template;
    return dest;
  }

  /**
   * ip_vs_check_template: a template whose server was deleted, or has weight 0 while
   * expire_quiescent_template is set, is invalidated; it stays until its timer ends but is
   * never used again, so the client is scheduled afresh.
   */
  private templateUsable(template: number): boolean {
    const dest = this.conns.dest[template]!;
    if (dest.available && (dest.weight > 0 || !this.expireQuiescentTemplate)) return true;
    this.conns.flags[template] |= CONN_F_INVALID;
    return false;
  }

  /** Moves the connection's state and expiry; keeps the server's active/inactive counts. */
  private transition(
    slot: number,
    dest: Destination,
    proto: number,
    tcpFlags: number,
    direction: number,
  ): void {
    const conns = this.conns;
    if (proto === IPPROTO_UDP) {
      this.wheel.schedule(slot, this.nowMs + this.udpTimeoutMs);
      return;
    }
    const flags = conns.flags[slot];
    const t = setTcpState(
      this.tcpStates,
      conns.state[slot],
      (flags & CONN_F_INACTIVE) !== 0,
      (flags & CONN_F_NOOUTPUT) !== 0,
      direction,
      tcpFlags,
      this.tcpTransition,
    );
    if (t.activeDelta !== 0) applyActiveDelta(dest, t.activeDelta);
    conns.flags[slot] = (flags & ~(CONN_F_INACTIVE | CONN_F_NOOUTPUT)) |
      (t.inactive ? CONN_F_INACTIVE : 0) | (t.noOutput ? CONN_F_NOOUTPUT : 0);
    const newState = t.newState;
    conns.state[slot] = newState;
    this.wheel.schedule(slot, this.nowMs + this.tcpTimeoutMs[newState]);
  }

  /** How long an entry lives from now in its current state, in ms. */
  private timeoutMsOf(slot: number): number {
    const conns = this.conns;
    if ((conns.flags[slot] & CONN_F_TEMPLATE) !== 0) {
      return conns.service[slot]!.persistTimeout * 1000;
    }
    return conns.proto[slot] === IPPROTO_UDP
      ? this.udpTimeoutMs
      : this.tcpTimeoutMs[conns.state[slot]];
  }

  /**
   * A timer ran out. An entry that still controls others (a template with connections, an FTP
   * control connection with data connections) is kept for another period, as IPVS does.
   */
  private timerExpired(slot: number): void {
    if (this.conns.controlledCount[slot] !== 0) {
      this.wheel.schedule(slot, this.nowMs + this.timeoutMsOf(slot));
      return;
    }
    this.expire(slot);
  }

  /** Removes an entry now and gives back its place in its server's counts. */
  private expire(slot: number): void {
    const conns = this.conns;
    const dest = conns.dest[slot];
    if (dest !== null) {
      const flags = conns.flags[slot];
      if ((flags & CONN_F_TEMPLATE) !== 0) dest.persistConns--;
      else {
        if ((flags & CONN_F_INACTIVE) !== 0) dest.inactiveConns--;
        else dest.activeConns--;
        clearOverloadAfterUnbind(dest);
      }
    }
    this.apps.release(slot); // [apps] helper state and unused expectations go with the entry
    this.wheel.cancel(slot);
    conns.remove(slot);
  }

  /**
   * expire_nodest_conn applied when real servers are deleted (as the kernel's
   * ip_vs_expire_nodest_conn_flush does since 5.9): their entries go at once, not at their
   * next packet. Control path only: scans the table.
   */
  expireEntriesOfRemovedServers(): number {
    if (!this.expireNodestConn) return 0;
    let removed = 0;
    this.conns.forEach((slot) => {
      if (!this.conns.dest[slot]!.available) {
        this.expire(slot);
        removed++;
      }
    });
    return removed;
  }

  // ---- [apps] expected connections ----------------------------------------------------

  /** A client's SYN to VIP:p that an FTP 227/229 reply announced. */
  private adoptPassive(
    proto: number,
    src: number,
    sport: number,
    dst: number,
    dport: number,
    tcpFlags: number,
  ): number {
    if (proto !== IPPROTO_TCP || (tcpFlags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) !== TCP_FLAG_SYN) {
      return NO_SLOT;
    }
    const i = this.apps.findPassive(src, dst, dport, this.nowMs);
    return i === NO_SLOT ? NO_SLOT : this.adoptExpected(i, src, sport);
  }

  /** A real server's SYN from :20 to a client that an FTP PORT/EPRT command announced. */
  private adoptActive(
    proto: number,
    src: number,
    sport: number,
    dst: number,
    dport: number,
  ): number {
    if (proto !== IPPROTO_TCP) return NO_SLOT;
    if ((this.view.tcp.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) !== TCP_FLAG_SYN) return NO_SLOT;
    const i = this.apps.findActive(dst, dport, src, sport, this.nowMs);
    return i === NO_SLOT ? NO_SLOT : this.adoptExpected(i, dst, dport);
  }

  /**
   * Creates the connection of expectation i for client caddr:cport, as ip_vs_ftp does with
   * ip_vs_conn_new + ip_vs_control_add: the control connection's real server and service,
   * and the control connection as its controller, which therefore outlives it.
   */
  private adoptExpected(i: number, caddr: number, cport: number): number {
    const apps = this.apps;
    const conns = this.conns;
    const control = apps.expControl[i];
    const dest = conns.dest[control];
    const svc = conns.service[control];
    if (dest === null || svc === null || !dest.available) return NO_SLOT;
    if (conns.isFull) this.reclaimHalfOpen();
    const slot = conns.insert(
      IPPROTO_TCP,
      caddr,
      cport,
      apps.expVaddr[i],
      apps.expVport[i],
      apps.expDaddr[i],
      apps.expDport[i],
    );
    if (slot === NO_SLOT) {
      this.drops.count(DropReason.TABLE_FULL);
      return NO_SLOT;
    }
    apps.consume(i);
    this.bindConnection(slot, IPPROTO_TCP, dest, svc, control);
    return slot;
  }
}
