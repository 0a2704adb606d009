// director/protocols/: per-protocol connection state and timeouts (IPVS's ip_vs_proto_*.c); a new
// protocol is a file here.
//
// IPVS's TCP connection state machine (net/netfilter/ipvs/ip_vs_proto_tcp.c).
//
// IPVS does not run a full TCP state machine: it only looks at the flag class of each packet
// (rst, syn, fin, ack) and the direction it travels, and looks the next state up in a table.
// Each state carries a timeout; that is all a director needs to expire entries sensibly.
// States are small integers so the connection table can keep them in a Uint8Array.
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from "../packet/tcp.ts";

/** TCP states, numbered as IPVS numbers them (IP_VS_TCP_S_*). */
export const TCP_S_NONE = 0;
export const TCP_S_ESTABLISHED = 1;
export const TCP_S_SYN_SENT = 2;
export const TCP_S_SYN_RECV = 3;
export const TCP_S_FIN_WAIT = 4;
export const TCP_S_TIME_WAIT = 5;
export const TCP_S_CLOSE = 6;
export const TCP_S_CLOSE_WAIT = 7;
export const TCP_S_LAST_ACK = 8;
export const TCP_S_LISTEN = 9;
export const TCP_S_SYNACK = 10;
/** Number of TCP states (IP_VS_TCP_S_LAST). */
export const TCP_STATE_COUNT = 11;

/** The same states keyed by the names ipvsadm -L -c prints. */
export const TcpState = Object.freeze({
  NONE: TCP_S_NONE,
  ESTABLISHED: TCP_S_ESTABLISHED,
  SYN_SENT: TCP_S_SYN_SENT,
  SYN_RECV: TCP_S_SYN_RECV,
  FIN_WAIT: TCP_S_FIN_WAIT,
  TIME_WAIT: TCP_S_TIME_WAIT,
  CLOSE: TCP_S_CLOSE,
  CLOSE_WAIT: TCP_S_CLOSE_WAIT,
  LAST_ACK: TCP_S_LAST_ACK,
  LISTEN: TCP_S_LISTEN,
  SYNACK: TCP_S_SYNACK,
});

/** State names indexed by state number, as ipvsadm prints them. */
export const TCP_STATE_NAMES: readonly string[] = Object.freeze([
  "NONE",
  "ESTABLISHED",
  "SYN_SENT",
  "SYN_RECV",
  "FIN_WAIT",
  "TIME_WAIT",
  "CLOSE",
  "CLOSE_WAIT",
  "LAST_ACK",
  "LISTEN",
  "SYNACK",
]);

/** Name of a TCP state; "ERR!" for a number out of range, as the kernel prints it. */
export function tcpStateName(state: number): string {
  return TCP_STATE_NAMES[state] ?? "ERR!";
}

/** State number for an ipvsadm state name, or -1 when the name is unknown. */
export function tcpStateFromName(name: string): number {
  return TCP_STATE_NAMES.indexOf(name);
}

/** Default timeout of each TCP state in seconds (tcp_timeouts[]), indexed by state. */
export const TCP_DEFAULT_TIMEOUTS: readonly number[] = Object.freeze([
  2, // NONE
  900, // ESTABLISHED
  120, // SYN_SENT
  60, // SYN_RECV
  120, // FIN_WAIT
  120, // TIME_WAIT
  10, // CLOSE
  60, // CLOSE_WAIT
  30, // LAST_ACK
  120, // LISTEN
  120, // SYNACK
]);

/**
 * Which states count toward a real server's ActiveConn. Since Linux 4.8 ("ipvs: count
 * pre-established TCP states as active") IPVS counts SYN_SENT, SYN_RECV and SYNACK as
 * active besides ESTABLISHED (tcp_state_active_table[]), so a SYN flood shows up in the
 * least-connection schedulers' load.
 */
const ACTIVE_STATES = new Uint8Array(TCP_STATE_COUNT);
ACTIVE_STATES[TCP_S_ESTABLISHED] = 1;
ACTIVE_STATES[TCP_S_SYN_SENT] = 1;
ACTIVE_STATES[TCP_S_SYN_RECV] = 1;
ACTIVE_STATES[TCP_S_SYNACK] = 1;

/** True when a connection in this state counts as active (tcp_state_active()). */
export function isActiveState(state: number): boolean {
  return ACTIVE_STATES[state] === 1;
}

// Packet directions, as IPVS names them (IP_VS_DIR_*).
/** Client → virtual service. */
export const DIR_INPUT = 0;
/** Real server → client (seen only when replies pass the director, i.e. NAT). */
export const DIR_OUTPUT = 1;
/** Client → service on a connection whose replies never came through the director. */
export const DIR_INPUT_ONLY = 2;
export type Direction = typeof DIR_INPUT | typeof DIR_OUTPUT | typeof DIR_INPUT_ONLY;

/** The TCP header's flag bits the table classes look at (defined with the TCP header view). */
export { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from "../packet/tcp.ts";

/** Flag classes: the row index within one direction's block of the table. */
export const FLAG_SYN = 0;
export const FLAG_FIN = 1;
export const FLAG_ACK = 2;
export const FLAG_RST = 3;
const FLAG_CLASSES = 4;

/**
 * The flag class of a packet (tcp_state_idx()): RST wins over SYN, SYN over FIN, FIN over
 * ACK, so a SYN+ACK is a "syn" and a FIN+ACK a "fin". -1 when none of the four is set.
 */
export function tcpFlagClass(tcpFlags: number): number {
  if ((tcpFlags & TCP_RST) !== 0) return FLAG_RST;
  if ((tcpFlags & TCP_SYN) !== 0) return FLAG_SYN;
  if ((tcpFlags & TCP_FIN) !== 0) return FLAG_FIN;
  if ((tcpFlags & TCP_ACK) !== 0) return FLAG_ACK;
  return -1;
}

/** One transition table: next state by [direction][flag class][current state], flattened. */
export interface TcpStateTable {
  /** "normal" (tcp_states) or "secure" (tcp_states_dos). */
  readonly name: string;
  /** next[(direction * 4 + flagClass) * TCP_STATE_COUNT + state] */
  readonly next: Uint8Array;
}

// Short names so the tables below read like the kernel's (no transition leads to NONE, so
// there is no sNO).
const sES = TCP_S_ESTABLISHED;
const sSS = TCP_S_SYN_SENT;
const sSR = TCP_S_SYN_RECV;
const sFW = TCP_S_FIN_WAIT;
const sTW = TCP_S_TIME_WAIT;
const sCL = TCP_S_CLOSE;
const sCW = TCP_S_CLOSE_WAIT;
const sLA = TCP_S_LAST_ACK;
const sLI = TCP_S_LISTEN;
const sSA = TCP_S_SYNACK;

function buildTable(name: string, rows: readonly (readonly number[])[]): TcpStateTable {
  if (rows.length !== 3 * FLAG_CLASSES) throw new Error(`table ${name}: expected 12 rows`);
  const next = new Uint8Array(rows.length * TCP_STATE_COUNT);
  rows.forEach((row, r) => {
    if (row.length !== TCP_STATE_COUNT) throw new Error(`table ${name}: row ${r} is short`);
    next.set(row, r * TCP_STATE_COUNT);
  });
  return Object.freeze({ name, next });
}

/** tcp_states[]: the table used normally. */
export const TCP_STATES_NORMAL: TcpStateTable = buildTable("normal", [
  // INPUT
  //      sNO  sES  sSS  sSR  sFW  sTW  sCL  sCW  sLA  sLI  sSA
  /*syn*/ [sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR],
  /*fin*/ [sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sTW],
  /*ack*/ [sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES],
  /*rst*/ [sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sSR],
  // OUTPUT
  /*syn*/ [sSS, sES, sSS, sSR, sSS, sSS, sSS, sSS, sSS, sLI, sSR],
  /*fin*/ [sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW],
  /*ack*/ [sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES],
  /*rst*/ [sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL],
  // INPUT-ONLY
  /*syn*/ [sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR],
  /*fin*/ [sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW],
  /*ack*/ [sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES],
  /*rst*/ [sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL],
]);

/**
 * tcp_states_dos[]: the secure_tcp variant. A client's SYN leads to SYNACK rather than
 * SYN_RECV when no reply was seen, and in SYNACK only the server's answer moves on, so a
 * spoofed handshake cannot push an entry to ESTABLISHED and its long timeout.
 */
export const TCP_STATES_SECURE: TcpStateTable = buildTable("secure", [
  // INPUT
  //      sNO  sES  sSS  sSR  sFW  sTW  sCL  sCW  sLA  sLI  sSA
  /*syn*/ [sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSA],
  /*fin*/ [sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sSA],
  /*ack*/ [sES, sES, sSS, sSR, sFW, sTW, sCL, sCW, sCL, sLI, sSA],
  /*rst*/ [sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL],
  // OUTPUT
  /*syn*/ [sSS, sES, sSS, sSA, sSS, sSS, sSS, sSS, sSS, sLI, sSA],
  /*fin*/ [sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW],
  /*ack*/ [sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES],
  /*rst*/ [sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL],
  // INPUT-ONLY
  /*syn*/ [sSA, sES, sES, sSR, sSA, sSA, sSA, sSA, sSA, sSA, sSA],
  /*fin*/ [sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW],
  /*ack*/ [sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES],
  /*rst*/ [sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL],
]);

/**
 * The table block a packet uses (set_tcp_state()): replies use OUTPUT; a client packet on a
 * connection that has never seen a reply (IP_VS_CONN_F_NOOUTPUT: TUN and DR connections,
 * whose replies bypass the director) uses INPUT-ONLY; other client packets use INPUT.
 */
export function effectiveDirection(direction: number, noOutput: boolean): Direction {
  if (direction === DIR_OUTPUT) return DIR_OUTPUT;
  return noOutput || direction === DIR_INPUT_ONLY ? DIR_INPUT_ONLY : DIR_INPUT;
}

/**
 * The state after one packet. `direction` is DIR_INPUT or DIR_OUTPUT as seen on the wire
 * (or an already resolved DIR_INPUT_ONLY); `noOutput` says the connection has seen no reply
 * yet, which turns an input packet into an input-only one. A packet with none of
 * SYN/FIN/ACK/RST moves the connection to CLOSE, as in the kernel.
 */
export function nextTcpState(
  table: TcpStateTable,
  state: number,
  direction: number,
  tcpFlags: number,
  noOutput = false,
): number {
  const flagClass = tcpFlagClass(tcpFlags);
  if (flagClass < 0 || state < 0 || state >= TCP_STATE_COUNT) return TCP_S_CLOSE;
  const dir = effectiveDirection(direction, noOutput);
  return table.next[(dir * FLAG_CLASSES + flagClass) * TCP_STATE_COUNT + state];
}

/** Result of setTcpState(); reuse one object so the hot path allocates nothing. */
export interface TcpTransition {
  /** The connection's new state. */
  newState: number;
  /** The connection now counts as inactive (IP_VS_CONN_F_INACTIVE). */
  inactive: boolean;
  /** The connection is still waiting for its first reply (IP_VS_CONN_F_NOOUTPUT). */
  noOutput: boolean;
  /**
   * Change to apply to the real server's counters: +1 moves one connection from
   * inactiveConns to activeConns, -1 the other way, 0 leaves them.
   */
  activeDelta: number;
}

export function newTcpTransition(): TcpTransition {
  return { newState: TCP_S_NONE, inactive: true, noOutput: false, activeDelta: 0 };
}

/**
 * The whole of set_tcp_state() for one packet: the first reply clears the no-output mark,
 * the table gives the new state, and the active/inactive mark follows isActiveState() —
 * reported in `out.activeDelta` for the caller to apply to its destination's counters
 * (see applyActiveDelta). `out` may be the same object on every call.
 */
export function setTcpState(
  table: TcpStateTable,
  state: number,
  inactive: boolean,
  noOutput: boolean,
  direction: number,
  tcpFlags: number,
  out: TcpTransition,
): TcpTransition {
  // The first reply proves that replies pass the director: from then on INPUT applies.
  const stillNoOutput = noOutput && direction !== DIR_OUTPUT;
  const newState = nextTcpState(table, state, direction, tcpFlags, stillNoOutput);
  let delta = 0;
  let nowInactive = inactive;
  if (newState !== state) {
    const active = isActiveState(newState);
    if (!inactive && !active) {
      delta = -1;
      nowInactive = true;
    } else if (inactive && active) {
      delta = 1;
      nowInactive = false;
    }
  }
  out.newState = newState;
  out.inactive = nowInactive;
  out.noOutput = stillNoOutput;
  out.activeDelta = delta;
  return out;
}

/** Applies a TcpTransition's activeDelta to a real server's counters. */
export function applyActiveDelta(
  counters: { activeConns: number; inactiveConns: number },
  delta: number,
): void {
  counters.activeConns += delta;
  counters.inactiveConns -= delta;
}
