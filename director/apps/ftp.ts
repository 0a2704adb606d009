// The FTP helper (IPVS's ip_vs_ftp): FTP carries the data connection's address in the
// control connection's text, which VS/NAT would otherwise break.
//
// Passive mode: after the client's PASV, the real server answers
// "227 Entering Passive Mode (172,16,0,3,p1,p2)"; the helper writes the VIP in place of the
// real server's address ("203,0,113,5" is one byte longer: the sequence numbers of the rest
// of the connection move, see seq-adjust.ts) and expects the client's connection to VIP:p,
// which the engine then sends to the real server's port p. After EPSV the reply
// "229 ... (|||p|)" holds no address: only the expectation is needed.
// Active mode: the client's "PORT h1,h2,h3,h4,p1,p2" or "EPRT |1|addr|p|" names its own
// address (not translated under VS/NAT); the helper expects the real server's connection
// from port 20 (the control port - 1) to it, which leaves the director with source VIP:20.
//
// As in IPVS, only established control connections are looked at, 227 only after PASV and
// 229 only after EPSV. Two checks IPVS leaves out: a PORT/EPRT address must be the client's
// own (no FTP bounce through the director) and a 227 address must be the real server's.
import { TCP_S_ESTABLISHED } from "../protocols/tcp-state.ts";
import type { PacketView } from "../packet/packet.ts";
import { IPPROTO_TCP } from "../packet/ipv4.ts";
import { replacePayload, tcpChecksumValid } from "./mangle.ts";
import {
  AddrPort,
  formatHostPort,
  lineEnd,
  nextLine,
  parse227Reply,
  parse229Reply,
  parseEprtCommand,
  parsePortCommand,
  startsWithWord,
} from "./ftp-text.ts";
import {
  APP_DROP,
  type AppHelper,
  type AppHelpers,
  EXPECT_ACTIVE,
  EXPECT_PASSIVE,
} from "./registry.ts";

/** The last data-connection command the client sent on a control connection. */
export const FTP_MODE_NONE = 0;
export const FTP_MODE_PASV = 1;
export const FTP_MODE_EPSV = 2;
export const FTP_MODE_ACTIVE = 3;

export const FTP_CONTROL_PORT = 21;
/** The server's end of an active-mode data connection (the control port - 1). */
export const FTP_DATA_PORT = 20;

export interface FtpCounters {
  pasv: number;
  epsv: number;
  port: number;
  eprt: number;
  /** 227 replies rewritten to the VIP. */
  rewritten227: number;
  /** 229 replies whose port was expected. */
  seen229: number;
  /** Commands or replies ignored (wrong address, unparsable arguments). */
  ignored: number;
}

/** The client's next connection to VIP:port goes to the control connection's server:port. */
function expectPassive(apps: AppHelpers, slot: number, port: number): boolean {
  const conns = apps.conns;
  return apps.expect(
    EXPECT_PASSIVE,
    slot,
    conns.caddr[slot],
    0,
    conns.vaddr[slot],
    port,
    conns.daddr[slot],
    port,
  );
}

export class FtpHelper implements AppHelper {
  readonly name = "ftp";
  /** FTP_MODE_* per connection slot. */
  readonly mode: Uint8Array;
  readonly counters: FtpCounters = {
    pasv: 0,
    epsv: 0,
    port: 0,
    eprt: 0,
    rewritten227: 0,
    seen229: 0,
    ignored: 0,
  };
  private readonly found = new AddrPort();
  /** "255,255,255,255,255,255" is 23 bytes. */
  private readonly text = new Uint8Array(24);

  constructor(capacity: number) {
    this.mode = new Uint8Array(capacity);
  }

  bindConn(slot: number): void {
    this.mode[slot] = FTP_MODE_NONE;
  }

  unbindConn(slot: number): void {
    this.mode[slot] = FTP_MODE_NONE;
  }

  /** Client commands: PASV/EPSV set the mode, PORT/EPRT announce an active connection. */
  pktIn(apps: AppHelpers, slot: number, view: PacketView): number {
    const conns = apps.conns;
    if (conns.state[slot] !== TCP_S_ESTABLISHED) return 0;
    const buf = view.buf;
    const limit = view.packetEnd;
    const found = this.found;
    for (let line = view.tcp.payloadOffset; line < limit; line = nextLine(buf, line, limit)) {
      const end = lineEnd(buf, line, limit);
      if (startsWithWord(buf, line, end, "PASV")) {
        this.mode[slot] = FTP_MODE_PASV;
        this.counters.pasv++;
      } else if (startsWithWord(buf, line, end, "EPSV")) {
        this.mode[slot] = FTP_MODE_EPSV;
        this.counters.epsv++;
      } else if (startsWithWord(buf, line, end, "PORT")) {
        this.mode[slot] = FTP_MODE_ACTIVE;
        this.counters.port++;
        if (!parsePortCommand(buf, line, end, found)) this.counters.ignored++;
        else if (!this.expectActive(apps, slot, found)) return APP_DROP;
      } else if (startsWithWord(buf, line, end, "EPRT")) {
        this.mode[slot] = FTP_MODE_ACTIVE;
        this.counters.eprt++;
        if (!parseEprtCommand(buf, line, end, found)) this.counters.ignored++;
        else if (!this.expectActive(apps, slot, found)) return APP_DROP;
      }
    }
    return 0;
  }

  /** Server replies: 227 is rewritten to the VIP and expected, 229 is expected. */
  pktOut(apps: AppHelpers, slot: number, view: PacketView): number {
    const conns = apps.conns;
    if (conns.state[slot] !== TCP_S_ESTABLISHED) return 0;
    const mode = this.mode[slot];
    if (mode !== FTP_MODE_PASV && mode !== FTP_MODE_EPSV) return 0;
    const buf = view.buf;
    const found = this.found;
    let total = 0;
    for (let line = view.tcp.payloadOffset; line < view.packetEnd;) {
      const limit = view.packetEnd;
      const end = lineEnd(buf, line, limit);
      if (mode === FTP_MODE_PASV && parse227Reply(buf, line, end, found)) {
        const diff = this.rewrite227(apps, slot, view);
        if (Number.isNaN(diff)) return APP_DROP;
        total += diff;
        line = nextLine(buf, end + diff, view.packetEnd);
        continue;
      }
      if (mode === FTP_MODE_EPSV && parse229Reply(buf, line, end, found)) {
        this.counters.seen229++;
        const ok = expectPassive(apps, slot, found.port);
        if (!ok) return APP_DROP;
      }
      line = nextLine(buf, end, limit);
    }
    return total;
  }

  /** The 227 reply in `found`: expect VIP:p → server:p, write the VIP into the reply. */
  private rewrite227(apps: AppHelpers, slot: number, view: PacketView): number {
    const conns = apps.conns;
    const found = this.found;
    // The table keeps addresses signed; parsed ones are unsigned.
    if ((found.addr | 0) === conns.vaddr[slot]) {
      // A server that already announces the VIP (vsftpd's pasv_address): expect, keep text.
      const ok = expectPassive(apps, slot, found.port);
      return ok ? 0 : APP_DROP;
    }
    if ((found.addr | 0) !== conns.daddr[slot]) {
      // Not the address the client's connection went to: not ours to translate.
      this.counters.ignored++;
      return 0;
    }
    const ok = expectPassive(apps, slot, found.port);
    if (!ok) return APP_DROP;
    // IPVS checks the checksum before it mangles: a corrupt segment must not get a valid one.
    if (!tcpChecksumValid(view)) return APP_DROP;
    const n = formatHostPort(conns.vaddr[slot], found.port, this.text);
    const diff = replacePayload(view, found.start, found.end, this.text, n);
    if (Number.isNaN(diff)) return APP_DROP;
    this.counters.rewritten227++;
    apps.counters.rewrites++;
    return diff;
  }

  /** PORT/EPRT in `found`: the real server's port-20 connection to the client is expected. */
  private expectActive(apps: AppHelpers, slot: number, found: AddrPort): boolean {
    const conns = apps.conns;
    if ((found.addr | 0) !== conns.caddr[slot]) {
      this.counters.ignored++;
      return true;
    }
    return apps.expect(
      EXPECT_ACTIVE,
      slot,
      found.addr,
      found.port,
      conns.vaddr[slot],
      (conns.vport[slot] - 1) & 0xffff,
      conns.daddr[slot],
      (conns.dport[slot] - 1) & 0xffff,
    );
  }
}

/** Registers the FTP helper on the given control ports (IPVS's ip_vs_ftp ports=21). */
export function registerFtp(
  apps: AppHelpers,
  ports: readonly number[] = [FTP_CONTROL_PORT],
): FtpHelper {
  const helper = new FtpHelper(apps.capacity);
  for (const port of ports) apps.register(helper, IPPROTO_TCP, port);
  return helper;
}
