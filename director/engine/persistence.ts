// Persistence templates (IPVS's ip_vs_sched_persist in ip_vs_core.c, ip_vs_check_template in
// ip_vs_conn.c): a client network keeps its real server while its template lives. A template
// is a connection-table entry keyed (protocol, client address & netmask, port 0, VIP, VIP
// port) pointing at the chosen server; each use restarts its timer. FTP services and
// port-zero services key on VIP port 0, so every port of the VIP (the FTP data connections)
// follows the client's template.
import { CONN_F_INVALID, CONN_F_TEMPLATE, type ConnTable, NO_SLOT } from "./conn-table.ts";
import type { TimerWheel } from "./timer-wheel.ts";
import type { ServiceEntry } from "../service/service-table.ts";
import type { Destination } from "../service/types.ts";
import { FTP_CONTROL_PORT } from "../apps/ftp.ts";

/** What scheduling chose for a new connection; one object, reused for every connection. */
export interface ScheduleChoice {
  /** The real server, or null when none can take the connection. */
  dest: Destination | null;
  /** The persistence template that chose it (its controller), or NO_SLOT. */
  template: number;
}

export function newScheduleChoice(): ScheduleChoice {
  return { dest: null, template: NO_SLOT };
}

export class PersistenceTemplates {
  /** IPVS's expire_quiescent_template sysctl: a template whose server has weight 0 is dropped. */
  expireQuiescentTemplate = false;

  /** `makeRoom` frees an entry when the table is full (called before a template is added). */
  constructor(
    private readonly conns: ConnTable,
    private readonly wheel: TimerWheel,
    private readonly makeRoom: () => void,
  ) {}

  /**
   * Picks the server of a new connection to persistent service `entry` (the client's
   * template's, or the scheduler's, recorded in a new template) into `out`.
   */
  schedule(
    entry: ServiceEntry,
    src: number,
    sport: number,
    dst: number,
    dport: number,
    nowMs: number,
    out: ScheduleChoice,
  ): ScheduleChoice {
    const svc = entry.service;
    const conns = this.conns;
    const cnet = src & svc.persistNetmask; // signed, as the table stores addresses
    const allPorts = svc.port === FTP_CONTROL_PORT || svc.port === 0;
    const tport = allPorts ? 0 : svc.port;
    let template = conns.findTemplate(entry.protocolNumber, cnet, dst, tport);
    if (template !== NO_SLOT && !this.usable(template)) template = NO_SLOT;
    out.template = NO_SLOT;
    if (template === NO_SLOT) {
      const dest = entry.scheduler.schedule(svc, src, sport, dst, dport);
      out.dest = dest;
      if (dest === null) return out;
      if (conns.isFull) this.makeRoom();
      template = conns.insert(
        entry.protocolNumber,
        cnet,
        0,
        dst,
        tport,
        dest.addr,
        allPorts ? 0 : dest.port,
      );
      if (template === NO_SLOT) return out; // table full: the connection's insert reports it
      conns.dest[template] = dest;
      conns.service[template] = svc;
      conns.flags[template] = CONN_F_TEMPLATE;
      dest.persistConns++;
    } else {
      out.dest = conns.dest[template];
    }
    // Each use restarts the template's timer (ip_vs_conn_put on the template).
    this.wheel.schedule(template, nowMs + svc.persistTimeout * 1000);
    out.template = template;
    return out;
  }

  /**
   * ip_vs_check_template: a template whose server was deleted, or has weight 0 while
   * expire_quiescent_template is set, is invalidated; it stays until its timer ends but is
   * never used again, so the client is scheduled afresh.
   */
  private usable(template: number): boolean {
    const dest = this.conns.dest[template]!;
    if (dest.available && (dest.weight > 0 || !this.expireQuiescentTemplate)) return true;
    this.conns.flags[template] |= CONN_F_INVALID;
    return false;
  }
}
