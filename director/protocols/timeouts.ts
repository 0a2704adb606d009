// Connection timeouts per protocol state, in seconds, and ipvsadm's way of changing them.
// ipvsadm --set only reaches three of them (TCP ESTABLISHED, TCP FIN_WAIT, UDP); the others
// keep the kernel's defaults. The object is plain data so it can be spread, stored in a
// config file or posted to a worker thread.
import {
  TCP_DEFAULT_TIMEOUTS,
  TCP_S_CLOSE,
  TCP_S_CLOSE_WAIT,
  TCP_S_ESTABLISHED,
  TCP_S_FIN_WAIT,
  TCP_S_LAST_ACK,
  TCP_S_LISTEN,
  TCP_S_NONE,
  TCP_S_SYN_RECV,
  TCP_S_SYN_SENT,
  TCP_S_SYNACK,
  TCP_S_TIME_WAIT,
} from "./tcp-state.ts";
import { UDP_DEFAULT_TIMEOUT } from "./udp-state.ts";

/** Timeouts in whole seconds. `tcp`, `tcpfin` and `udp` are the three ipvsadm --set names. */
export interface Timeouts {
  /** TCP ESTABLISHED (ipvsadm "tcp"). */
  tcp: number;
  /** TCP FIN_WAIT (ipvsadm "tcpfin"). */
  tcpfin: number;
  /** UDP (ipvsadm "udp"). */
  udp: number;
  none: number;
  synSent: number;
  synRecv: number;
  timeWait: number;
  close: number;
  closeWait: number;
  lastAck: number;
  listen: number;
  synack: number;
}

/** The three values ipvsadm --set takes and ipvsadm -L --timeout shows. */
export interface TimeoutSet {
  tcp: number;
  tcpfin: number;
  udp: number;
}

/** A new connection lives this long until its first state transition (ip_vs_conn_new()). */
export const CONN_INITIAL_TIMEOUT_S = 3;

/** Largest value ipvsadm accepts for a timeout: 31 days. */
export const MAX_TIMEOUT_S = 86400 * 31;

/** Field of Timeouts holding each TCP state's timeout, indexed by state number. */
const TCP_STATE_FIELDS: readonly (keyof Timeouts)[] = (() => {
  const fields: (keyof Timeouts)[] = [];
  fields[TCP_S_NONE] = "none";
  fields[TCP_S_ESTABLISHED] = "tcp";
  fields[TCP_S_SYN_SENT] = "synSent";
  fields[TCP_S_SYN_RECV] = "synRecv";
  fields[TCP_S_FIN_WAIT] = "tcpfin";
  fields[TCP_S_TIME_WAIT] = "timeWait";
  fields[TCP_S_CLOSE] = "close";
  fields[TCP_S_CLOSE_WAIT] = "closeWait";
  fields[TCP_S_LAST_ACK] = "lastAck";
  fields[TCP_S_LISTEN] = "listen";
  fields[TCP_S_SYNACK] = "synack";
  return Object.freeze(fields);
})();

/** A fresh copy of the kernel's default timeouts. */
export function defaultTimeouts(): Timeouts {
  const t = {} as Timeouts;
  TCP_STATE_FIELDS.forEach((field, state) => {
    t[field] = TCP_DEFAULT_TIMEOUTS[state];
  });
  t.udp = UDP_DEFAULT_TIMEOUT;
  return t;
}

/**
 * Timeout in seconds of a TCP connection in `state`. A number that is no TCP state gets the
 * NONE timeout (2 s), which is also what the kernel keeps for IP_VS_TCP_S_LAST.
 */
export function timeoutSecondsForState(timeouts: Timeouts, state: number): number {
  const field = TCP_STATE_FIELDS[state];
  return field === undefined ? timeouts.none : timeouts[field];
}

/** The --set view of a timeouts object. */
export function timeoutSet(timeouts: Timeouts): TimeoutSet {
  return { tcp: timeouts.tcp, tcpfin: timeouts.tcpfin, udp: timeouts.udp };
}

/** ipvsadm -L --timeout output line, e.g. "Timeout (tcp tcpfin udp): 900 120 300". */
export function formatTimeouts(timeouts: Timeouts): string {
  return `Timeout (tcp tcpfin udp): ${timeouts.tcp} ${timeouts.tcpfin} ${timeouts.udp}`;
}

function checkTimeoutValue(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_TIMEOUT_S) {
    throw new Error(
      `invalid ${what} timeout ${value}: give whole seconds from 0 to ${MAX_TIMEOUT_S} ` +
        `(0 keeps the current value)`,
    );
  }
}

/**
 * One ipvsadm --set argument: whole seconds, 0 to 31 days (ipvsadm's parse_timeout()).
 * Throws a sentence naming the bad value otherwise.
 */
export function parseTimeoutValue(text: string): number {
  const trimmed = text.trim();
  const value = /^\+?\d+$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isSafeInteger(value) || value > MAX_TIMEOUT_S) {
    throw new Error(
      `invalid timeout value '${text}' specified: give whole seconds from 0 to ` +
        `${MAX_TIMEOUT_S} (0 keeps the current value)`,
    );
  }
  return value;
}

/** The arguments of ipvsadm --set tcp tcpfin udp: exactly three timeout values. */
export function parseSetArguments(args: readonly string[]): TimeoutSet {
  if (args.length !== 3) {
    throw new Error(
      `--set option requires 3 timeout values (tcp tcpfin udp), got ${args.length}: ` +
        `for example --set 900 120 300, 0 keeps a value unchanged`,
    );
  }
  return {
    tcp: parseTimeoutValue(args[0]),
    tcpfin: parseTimeoutValue(args[1]),
    udp: parseTimeoutValue(args[2]),
  };
}

/**
 * Applies ipvsadm --set to `timeouts` in place (ip_vs_set_timeout()): each non-zero value
 * replaces the current one, 0 leaves it unchanged. Nothing changes if any value is invalid.
 * Returns `timeouts`.
 */
export function applyTimeoutSet(timeouts: Timeouts, set: TimeoutSet): Timeouts {
  checkTimeoutValue(set.tcp, "tcp");
  checkTimeoutValue(set.tcpfin, "tcpfin");
  checkTimeoutValue(set.udp, "udp");
  if (set.tcp !== 0) timeouts.tcp = set.tcp;
  if (set.tcpfin !== 0) timeouts.tcpfin = set.tcpfin;
  if (set.udp !== 0) timeouts.udp = set.udp;
  return timeouts;
}
