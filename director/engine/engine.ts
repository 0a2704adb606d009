// director/engine/: the packet path; start here. The connection table, timers, persistence
// templates, fragments, half-open reclaim and the packet and transmit threads are modules beside
// this one.
//
// The director's packet engine: one call per packet read from the TUN device. It finds the
// packet's connection (or schedules a new one), tracks protocol state and expiry, hands the
// packet to the connection's forwarding method and tells the caller how many bytes to write
// back. Nothing here allocates on the steady path.
import {
  CONN_F_INACTIVE,
  CONN_F_NOOUTPUT,
  CONN_F_TEMPLATE,
  ConnTable,
  NO_SLOT,
} from "./conn-table.ts";
import { DropCounters, DropReason } from "./drop-counters.ts";
import { TimerWheel } from "./timer-wheel.ts";
import { HalfOpenReclaim } from "./half-open-reclaim.ts";
import { newScheduleChoice, PersistenceTemplates } from "./persistence.ts";
import { PacketView } from "../packet/packet.ts";
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from "../packet/ipv4.ts";
import { FORWARDING_METHODS, forwardingMethodIndex } from "../forwarding/index.ts";
import { ICMP_NOT_HANDLED, type TransmitContext } from "../forwarding/method.ts";
import { LinkTable } from "../net/link-table.ts";
import { TunnelTable } from "../net/tunnel-table.ts";
import { type NatRouteDescription, NatRoutes } from "../net/nat-routes.ts";
import { giveBackForwardingTtl } from "../forwarding/kernel-ttl.ts";
import { ServiceTable } from "../service/service-table.ts";
import { isExpiringScheduler } from "../schedulers/index.ts";
import {
  clearOverloadAfterUnbind,
  type Destination,
  markOverloadAfterBind,
  newStats,
  NO_NEXT_HOP,
  type VirtualService,
} from "../service/types.ts";
import { ESTIMATOR_INTERVAL_MS, RateEstimator } from "../service/rate-estimator.ts";
import { FragmentTracker, newFragmentMatch } from "./fragment-tracker.ts";
import { EmbeddedPacket, ICMP_ERROR_NONE, ICMP_ERROR_RELATED } from "../icmp/icmp-translate.ts";
import { TunnelIcmp } from "../icmp/tunnel-icmp.ts";
import { ICMP_ECHO } from "../packet/icmp.ts";
import { writeEchoReply } from "../replies/echo-reply.ts";
import {
  REFUSE_PORT_CLOSED,
  REFUSE_SILENTLY,
  REFUSE_UNREACHABLE,
  writeRefusal,
} from "../replies/refusal.ts";
import {
  applyActiveDelta,
  DIR_INPUT,
  DIR_OUTPUT,
  newTcpTransition,
  setTcpState,
  TCP_ACK,
  TCP_S_CLOSE,
  TCP_S_TIME_WAIT,
  TCP_STATES_NORMAL,
  TCP_STATES_SECURE,
  TCP_SYN,
  type TcpStateTable,
} from "../protocols/tcp-state.ts";
import { isTcpFreshSyn, tcpScheduleRefusal } from "../protocols/tcp-schedule.ts";
import { UDP_STATE } from "../protocols/udp-state.ts";
import { defaultTimeouts, type Timeouts, timeoutSecondsForState } from "../protocols/timeouts.ts";
import { AppHelpers } from "../apps/registry.ts";
import { registerFtp } from "../apps/ftp.ts";
import { type ConnectionFactory, FtpDataAdoption } from "../apps/ftp-data-adoption.ts";

export { CONN_F_INACTIVE, CONN_F_NOOUTPUT, CONN_F_TEMPLATE } from "./conn-table.ts";

/** keepConnection() verdicts: use the entry, schedule the packet anew, or drop it. */
const ENTRY_USE = 0;
const ENTRY_RESCHEDULE = 1;
const ENTRY_DROP_PACKET = 2;
/** A brand-new connection lives 3 s until its first state transition (IPVS). */
const NEW_CONN_TIMEOUT_MS = 3000;
/** How often slow per-service upkeep runs. */
const HOUSEKEEPING_INTERVAL_MS = 1000;

export interface EngineOptions {
  maxConnections: number;
  timeouts?: Timeouts;
  secureTcp?: boolean;
  nowMs?: number;
  /** The packet sockets DR frames leave through (default: an empty table that opens them). */
  links?: LinkTable;
  /** The raw socket TUN packets leave through (default: one opened with the first server). */
  tunnels?: TunnelTable;
}

export class DirectorEngine implements ConnectionFactory {
  readonly services = new ServiceTable();
  readonly conns: ConnTable;
  readonly wheel: TimerWheel;
  readonly drops = new DropCounters();
  readonly timeouts: Timeouts;
  /** Timeout per TCP state in ms, rebuilt (in place) when timeouts change. */
  private readonly tcpTimeoutMs = new Float64Array(16);
  private udpTimeoutMs = 300_000;
  private tcpStates: TcpStateTable;
  private readonly view = new PacketView();
  /** Link-layer senders towards DR real servers; the packet loop flushes them. */
  readonly links: LinkTable;
  readonly tunnels: TunnelTable;
  /** VS/NAT's routes over the links (--nat-transmit packet). */
  readonly natRoutes: NatRoutes;
  /** What forwarding methods are called with (one object, made once). */
  private readonly transmit: TransmitContext;
  private readonly embedded = new EmbeddedPacket();
  /** ICMP errors about the director's own tunnel packets (the raw ICMP socket's). */
  readonly tunnelIcmp: TunnelIcmp;
  /** Fragments after the first follow the connection of their first fragment. */
  readonly frags = new FragmentTracker(4096, 30_000);
  private readonly fragMatch = newFragmentMatch();
  /** Application helpers (IPVS's ip_vs_app): FTP on virtual port 21. */
  readonly apps: AppHelpers;
  private readonly ftpData: FtpDataAdoption;
  private readonly persistence: PersistenceTemplates;
  private readonly reclaim: HalfOpenReclaim;
  private readonly choice = newScheduleChoice();
  /** RSTs and ICMP errors sent for refused packets. */
  refusalsSent = 0;
  private readonly tcpTransition = newTcpTransition();
  private nowMs: number;
  private lastHousekeepingMs = 0;
  private lastEstimateMs = 0;
  /** Counters over all services (ipvsadm --stats' totals). */
  readonly totals = newStats();
  readonly totalsEstimator = new RateEstimator();
  /** IPVS's expire_nodest_conn sysctl: expire entries whose real server was deleted. */
  expireNodestConn = false;
  /** Half-open entries freed to make room while the table was full. */
  reclaimedHalfOpen = 0;
  private readonly expireOne = (slot: number) => this.timerExpired(slot);

  constructor(options: EngineOptions) {
    this.conns = new ConnTable(options.maxConnections);
    this.links = options.links ?? new LinkTable();
    this.tunnels = options.tunnels ?? new TunnelTable();
    this.natRoutes = new NatRoutes(this.links);
    this.transmit = {
      view: this.view,
      conns: this.conns,
      links: this.links,
      natRoutes: this.natRoutes,
      tunnels: this.tunnels,
      drops: this.drops,
    };
    this.tunnelIcmp = new TunnelIcmp(this.conns, this.tunnels, this.drops);
    this.apps = new AppHelpers(this.conns);
    registerFtp(this.apps);
    this.ftpData = new FtpDataAdoption(this.apps, this.conns, this);
    this.nowMs = options.nowMs ?? Date.now();
    this.wheel = new TimerWheel(options.maxConnections, 100, 4096, this.nowMs);
    this.reclaim = new HalfOpenReclaim(this.conns, this.wheel, this.tcpTimeoutMs);
    this.persistence = new PersistenceTemplates(this.conns, this.wheel, () => this.makeRoom());
    this.timeouts = { ...(options.timeouts ?? defaultTimeouts()) };
    this.tcpStates = options.secureTcp ? TCP_STATES_SECURE : TCP_STATES_NORMAL;
    this.refreshTimeouts();
  }

  /** IPVS's expire_quiescent_template sysctl: a template whose server has weight 0 is dropped. */
  get expireQuiescentTemplate(): boolean {
    return this.persistence.expireQuiescentTemplate;
  }
  set expireQuiescentTemplate(on: boolean) {
    this.persistence.expireQuiescentTemplate = on;
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
    this.tunnels.expire(nowMs);
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
   * returns the number of bytes to write back to the TUN device, or 0 to drop it. What goes
   * back, forwarded or the director's own answer, gets back the TTL the kernel takes when it
   * forwards it out of the TUN device (director/forwarding/kernel-ttl.ts): one place for all.
   */
  process(buf: Uint8Array, length: number): number {
    const n = this.handle(buf, length);
    if (n > 0) giveBackForwardingTtl(this.view);
    return n;
  }

  /**
   * One ICMP read from the raw ICMP socket at buf[VNET_HDR_LEN, length): an error about one
   * of the director's tunnel packets (director/icmp/tunnel-icmp.ts). Returns the bytes of
   * the error for the client to write to the TUN device (vnet header first), or 0.
   */
  processTunnelIcmp(buf: Uint8Array, length: number): number {
    return this.tunnelIcmp.handle(buf, length, this.nowMs);
  }

  /** process() but for the TTL: every path that answers with bytes to write. */
  private handle(buf: Uint8Array, length: number): number {
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
    let slot = this.conns.findInbound(proto, src, sport, dst, dport);
    const tcpFlags = proto === IPPROTO_TCP ? this.view.tcp.flags : 0;
    if (slot !== NO_SLOT) {
      const verdict = this.keepConnection(slot, proto, tcpFlags);
      if (verdict === ENTRY_DROP_PACKET) return 0; // dropped, the entry stays
      if (verdict === ENTRY_RESCHEDULE) slot = NO_SLOT; // this packet starts a new connection
    }
    if (slot === NO_SLOT) {
      // [apps] A data connection an FTP control connection announced (passive mode).
      slot = this.ftpData.adoptPassive(proto, src, sport, dst, dport, tcpFlags, this.nowMs);
      if (slot === NO_SLOT) slot = this.schedule(proto, src, sport, dst, dport, tcpFlags);
      if (slot < 0) return this.refuse(slot, proto, dst);
    }
    return this.forward(slot, proto, src, dst, tcpFlags, DIR_INPUT, length);
  }

  /** Real server → client: a reply of a connection whose replies pass the director. */
  private outbound(
    proto: number,
    src: number,
    sport: number,
    dst: number,
    dport: number,
    length: number,
  ): number {
    let slot = this.conns.findOutbound(proto, dst, dport, src, sport);
    const tcpFlags = proto === IPPROTO_TCP ? this.view.tcp.flags : 0;
    // [apps] A data connection an FTP control connection announced (active mode, from :20).
    if (slot === NO_SLOT) {
      slot = this.ftpData.adoptActive(proto, src, sport, dst, dport, tcpFlags, this.nowMs);
    }
    if (slot === NO_SLOT) {
      // A DR or TUN server's reply (source: the VIP it holds) routed through the director's
      // host: not the director's to rewrite; IPVS lets the kernel forward it (NF_ACCEPT).
      if (this.services.isVirtualAddress(src)) return length;
      this.drops.count(DropReason.NO_CONNECTION);
      return 0;
    }
    return this.forward(slot, proto, src, dst, tcpFlags, DIR_OUTPUT, length);
  }

  /**
   * A packet of connection `slot`, either way: state and expiry, fragment bookkeeping,
   * counters, the application helper, then the connection's forwarding method. Returns the
   * bytes to write.
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
    const method = FORWARDING_METHODS[conns.method[slot]];
    return inbound
      ? method.transmitInbound(this.transmit, slot, out)
      : method.transmitOutbound(this.transmit, slot, out);
  }

  /**
   * Answers a packet the director will not forward as `refusal` (a REFUSE_* verdict) says:
   * the reply is written over the packet; returns its length (0 = stay silent).
   */
  private refuse(refusal: number, proto: number, vip: number): number {
    const n = writeRefusal(this.view, refusal, proto, vip);
    if (n > 0) this.refusalsSent++;
    return n;
  }

  /** A non-first fragment: it follows the connection its first fragment was given. */
  private laterFragment(proto: number, length: number): number {
    const ip = this.view.ip;
    const src = ip.srcInt;
    const dst = ip.dstInt;
    const conns = this.conns;
    const match = this.fragMatch;
    const found = this.frags.find(src, dst, proto, ip.id, this.nowMs, match);
    const slot = match.slot;
    // The slot may have been freed and reused since: check it is still this flow's.
    if (!found || !conns.isLive(slot) || conns.proto[slot] !== proto) {
      this.drops.count(DropReason.FRAGMENT);
      return 0;
    }
    const ipLength = ip.totalLength;
    const method = FORWARDING_METHODS[conns.method[slot]];
    if (match.tag === DIR_INPUT && conns.caddr[slot] === src && conns.vaddr[slot] === dst) {
      this.countInbound(slot, ipLength);
      return method.transmitInboundFragment(this.transmit, slot, length);
    }
    if (match.tag === DIR_OUTPUT && conns.daddr[slot] === src && conns.caddr[slot] === dst) {
      this.countOutbound(slot, ipLength);
      return method.transmitOutboundFragment(this.transmit, slot, length);
    }
    this.drops.count(DropReason.FRAGMENT);
    return 0;
  }

  /**
   * ICMP: errors about a connection are translated by its forwarding method (outer and
   * quoted headers, ports and checksums, as ip_vs_in_icmp/ip_vs_out_icmp); echo requests to
   * a VIP are answered; other ICMP not addressed to a VIP passes unchanged (the host routes
   * it as usual).
   */
  private icmp(buf: Uint8Array, length: number): number {
    const view = this.view;
    const emb = this.embedded;
    if (emb.bind(view)) {
      const handled = this.icmpOfConnection(emb);
      if (handled !== ICMP_NOT_HANDLED) return handled;
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

  /**
   * An ICMP error quoting a packet of a connection, handed to its method: the bytes to write
   * back, or ICMP_NOT_HANDLED (no connection, or the method left it).
   */
  private icmpOfConnection(emb: EmbeddedPacket): number {
    const conns = this.conns;
    if (this.services.isVirtualAddress(emb.src)) {
      // From the client side, about a reply sent as the VIP (quoted src = VIP:vport).
      const slot = conns.findInbound(emb.proto, emb.dst, emb.dstPort, emb.src, emb.srcPort);
      if (slot === NO_SLOT) return ICMP_NOT_HANDLED;
      return FORWARDING_METHODS[conns.method[slot]].transmitIcmpInbound(this.transmit, emb, slot);
    }
    // From the private side, about a packet forwarded to a real server.
    const slot = conns.findOutbound(emb.proto, emb.src, emb.srcPort, emb.dst, emb.dstPort);
    if (slot === NO_SLOT) return ICMP_NOT_HANDLED;
    return FORWARDING_METHODS[conns.method[slot]].transmitIcmpOutbound(this.transmit, emb, slot);
  }

  /** Decides what a client packet does with its existing entry: an ENTRY_* verdict. */
  private keepConnection(slot: number, proto: number, tcpFlags: number): number {
    const conns = this.conns;
    const dest = conns.dest[slot]!;
    // conn_reuse_mode 1 comes first, as in ip_vs_in(): a fresh SYN on an entry in TIME_WAIT
    // or CLOSE is a new connection (whatever became of the entry's server), and so is one on
    // an entry whose server has weight 0 when expire_nodest_conn is set.
    if (proto === IPPROTO_TCP && isTcpFreshSyn(tcpFlags)) {
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
   * A packet with no connection (ip_vs_schedule): find its service, pick a real server,
   * create the entry. Returns its slot, or a REFUSE_* verdict (negative).
   */
  private schedule(
    proto: number,
    src: number,
    sport: number,
    dst: number,
    dport: number,
    tcpFlags: number,
  ): number {
    const entry = this.services.lookupForNewConnection(proto, dst, dport);
    if (entry === undefined) {
      this.drops.count(DropReason.NO_SERVICE);
      return REFUSE_PORT_CLOSED;
    }
    if (proto === IPPROTO_TCP) {
      const refusal = tcpScheduleRefusal(tcpFlags);
      if (refusal !== 0) {
        this.drops.count(DropReason.NOT_SYN);
        return refusal;
      }
    }
    const svc = entry.service;
    const choice = this.choice;
    if (svc.persistTimeout > 0) {
      this.persistence.schedule(entry, src, sport, dst, dport, this.nowMs, choice);
    } else {
      choice.dest = entry.scheduler.schedule(svc, src, sport, dst, dport);
      choice.template = NO_SLOT;
    }
    const dest = choice.dest;
    if (dest === null) {
      // ip_vs_leave(): no real server can take it, ICMP port unreachable for TCP and UDP.
      this.drops.count(DropReason.NO_DESTINATION);
      return REFUSE_UNREACHABLE;
    }
    // Caught by a port-zero or FTP service, the connection keeps the port the client asked for.
    const rport = dport === svc.port && dest.port !== 0 ? dest.port : dport;
    const slot = this.createConnection(
      proto,
      src,
      sport,
      dst,
      dport,
      dest.addr,
      rport,
      dest,
      svc,
      choice.template,
    );
    return slot === NO_SLOT ? REFUSE_SILENTLY : slot;
  }

  /**
   * Inserts a connection entry and binds it (ConnectionFactory): a half-open TCP entry may be
   * reclaimed first when the table is full. NO_SLOT when the table is full (counted).
   */
  createConnection(
    proto: number,
    caddr: number,
    cport: number,
    vaddr: number,
    vport: number,
    daddr: number,
    dport: number,
    dest: Destination,
    svc: VirtualService,
    controller: number,
  ): number {
    if (this.conns.isFull && proto === IPPROTO_TCP) this.makeRoom();
    const slot = this.conns.insert(proto, caddr, cport, vaddr, vport, daddr, dport);
    if (slot === NO_SLOT) {
      this.drops.count(DropReason.TABLE_FULL);
      return NO_SLOT;
    }
    this.bindConnection(slot, proto, dest, svc, controller);
    return slot;
  }

  /**
   * Ties a new entry to its real server and service (ip_vs_bind_dest) and to the server's
   * forwarding method (ip_vs_bind_xmit): helper, controller, initial state and flags, the
   * server's counts, and the 3 s life of a brand-new entry.
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
    const method = forwardingMethodIndex(dest.method);
    conns.method[slot] = method;
    // [apps] the helper of the virtual port, if any, where the method rewrites addresses
    if (FORWARDING_METHODS[method].runsAppHelpers) this.apps.bind(slot);
    if (controller !== NO_SLOT) conns.setController(slot, controller);
    conns.state[slot] = proto === IPPROTO_UDP ? UDP_STATE : 0;
    // IPVS's dest conn_flags: a new connection starts inactive (UDP ones stay so); methods
    // whose replies bypass the director start "no output".
    conns.flags[slot] = CONN_F_INACTIVE | FORWARDING_METHODS[method].initialConnFlags;
    dest.inactiveConns++;
    markOverloadAfterBind(dest);
    dest.stats.conns++;
    svc.stats.conns++;
    this.totals.conns++;
    this.wheel.schedule(slot, this.nowMs + NEW_CONN_TIMEOUT_MS);
  }

  /**
   * Opens a connection entry without a packet, for the bench's table fill only
   * (director/engine/synthetic-fill.ts, behind lvslab-director --allow-test-fill): the service's
   * scheduler picks its real server, then the state table takes it through the client's SYN
   * and ACK, so a TCP entry ends ESTABLISHED with its timer in the wheel and its server's
   * counts as a real one's. Returns its slot, or a negative REFUSE_* verdict.
   */
  openSynthetic(proto: number, caddr: number, cport: number, vaddr: number, vport: number): number {
    const slot = this.schedule(proto, caddr | 0, cport, vaddr | 0, vport, TCP_SYN);
    if (slot < 0) return slot;
    const dest = this.conns.dest[slot]!;
    this.transition(slot, dest, proto, TCP_SYN, DIR_INPUT);
    if (proto === IPPROTO_TCP) this.transition(slot, dest, proto, TCP_ACK, DIR_INPUT);
    return slot;
  }

  /** The table is full: frees one half-open entry if an old enough one is found. */
  private makeRoom(): void {
    const victim = this.reclaim.findVictim(this.nowMs);
    if (victim === NO_SLOT) return;
    this.expire(victim);
    this.reclaimedHalfOpen++;
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
   * New routes for VS/NAT over the links (control path): the next hops cached from the old
   * ones, per real server and per connection, are looked up again at their next packet.
   */
  configureNatRoutes(routes: readonly NatRouteDescription[]): void {
    this.natRoutes.configure(routes);
    this.conns.replyHop.fill(NO_NEXT_HOP);
    for (const { service } of this.services.entries) {
      for (const dest of service.destinations) {
        if (dest.method === "masq") dest.nextHop = NO_NEXT_HOP;
      }
    }
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
}
