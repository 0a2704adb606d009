// FTP data-connection adoption (IPVS's ip_vs_ftp creating the connection an FTP control
// connection announced, with ip_vs_conn_new + ip_vs_control_add): a packet with no entry
// that matches a pending expectation becomes a connection to the control connection's real
// server, under the control connection as its controller (which therefore outlives it).
import type { ConnTable } from "../engine/conn-table.ts";
import { IPPROTO_TCP } from "../packet/ipv4.ts";
import { isTcpOpeningSyn } from "../protocols/tcp-schedule.ts";
import type { Destination, VirtualService } from "../service/types.ts";
import { type AppHelpers, NO_SLOT } from "./registry.ts";

/** What adoption needs of the engine: creating and binding a connection entry. */
export interface ConnectionFactory {
  /**
   * Inserts (making room when the table is full) and binds a connection; returns its slot,
   * or NO_SLOT when the table is full (counted there).
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
  ): number;
}

export class FtpDataAdoption {
  constructor(
    private readonly apps: AppHelpers,
    private readonly conns: ConnTable,
    private readonly factory: ConnectionFactory,
  ) {}

  /** A client's SYN to VIP:p that an FTP 227/229 reply announced (passive mode). */
  adoptPassive(
    proto: number,
    src: number,
    sport: number,
    dst: number,
    dport: number,
    tcpFlags: number,
    nowMs: number,
  ): number {
    if (!this.mayAdopt(proto, tcpFlags)) return NO_SLOT;
    const i = this.apps.findPassive(src, dst, dport, nowMs);
    return i === NO_SLOT ? NO_SLOT : this.adoptExpected(i, src, sport);
  }

  /** A real server's SYN from :20 to a client that a PORT/EPRT command announced (active). */
  adoptActive(
    proto: number,
    src: number,
    sport: number,
    dst: number,
    dport: number,
    tcpFlags: number,
    nowMs: number,
  ): number {
    if (!this.mayAdopt(proto, tcpFlags)) return NO_SLOT;
    const i = this.apps.findActive(dst, dport, src, sport, nowMs);
    return i === NO_SLOT ? NO_SLOT : this.adoptExpected(i, dst, dport);
  }

  /** Expectations are pending and the packet opens a TCP connection. */
  private mayAdopt(proto: number, tcpFlags: number): boolean {
    return this.apps.pending !== 0 && proto === IPPROTO_TCP && isTcpOpeningSyn(tcpFlags);
  }

  /** Creates the connection of expectation i for client caddr:cport. */
  private adoptExpected(i: number, caddr: number, cport: number): number {
    const apps = this.apps;
    const conns = this.conns;
    const control = apps.expControl[i];
    const dest = conns.dest[control];
    const svc = conns.service[control];
    if (dest === null || svc === null || !dest.available) return NO_SLOT;
    const slot = this.factory.createConnection(
      IPPROTO_TCP,
      caddr,
      cport,
      apps.expVaddr[i],
      apps.expVport[i],
      apps.expDaddr[i],
      apps.expDport[i],
      dest,
      svc,
      control,
    );
    if (slot !== NO_SLOT) apps.consume(i);
    return slot;
  }
}
