// What an ipvsadm command line means, independent of how it was spelled: the parser builds
// these, the control API carries them, the director applies them. Values are complete, as
// ipvsadm sends complete structs: -E without -s means "wlc", -e without -w means weight 1.

/** A virtual service: tcp/udp address:port, or a firewall mark (-f; addr and port are 0). */
export interface ServiceRef {
  protocol: "tcp" | "udp" | "fwmark";
  addr: number;
  port: number;
  fwmark?: number;
}

export interface ServerRef {
  addr: number;
  port: number;
}

import type { ForwardMethod } from "../forwarding/method-names.ts";

export type { ForwardMethod };

import type { TunnelOptions } from "../service/tunnel-options.ts";

export type { TunnelOptions };

/** Which listing -L prints; ipvsadm takes the first of stats, rate, thresholds, persistent-conn, tun-info. */
export type ListFormat = "plain" | "stats" | "rate" | "thresholds" | "persistent-conn" | "tun-info";

export type IpvsadmCommand =
  | {
    kind: "add-service" | "edit-service";
    service: ServiceRef;
    /** -s, default "wlc"; unknown names are refused by the director (see serverError). */
    scheduler: string;
    /** -b, canonical names for the scheduler (sh-port, mh-fallback, flag-1, ...). */
    schedFlags: string[];
    /** -p timeout in seconds (360 when -p has no value, as libipvs defines); 0 = not persistent. */
    persistent: number;
    /** -M, default 255.255.255.255 (0xffffffff). */
    netmask: number;
    /** -o, one-packet scheduling. */
    onePacket: boolean;
  }
  | { kind: "delete-service"; service: ServiceRef }
  | { kind: "clear" }
  | { kind: "zero"; service?: ServiceRef }
  | {
    kind: "add-server" | "edit-server";
    service: ServiceRef;
    /** Port is the service's for route/tunnel, as ipvsadm forces it. */
    server: ServerRef;
    /** Default "route" (-g), as in ipvsadm. */
    method: ForwardMethod;
    /** -w, default 1. */
    weight: number;
    /** -x, default 0 (no limit). */
    upper: number;
    /** -y, default 0. */
    lower: number;
    /** Only with method "tunnel". */
    tunnel?: TunnelOptions;
  }
  | { kind: "delete-server"; service: ServiceRef; server: ServerRef }
  | {
    kind: "list";
    /** services: the table (or one service); connections: -c; timeouts: --timeout. */
    view: "services" | "connections" | "timeouts";
    service?: ServiceRef;
    format: ListFormat;
    numeric: boolean;
    exact: boolean;
    /** false with --nosort; sorting is ipvsadm's default. */
    sort: boolean;
  }
  | { kind: "save"; numeric: boolean }
  | { kind: "restore" }
  | { kind: "set-timeouts"; tcp: number; tcpfin: number; udp: number }
  | { kind: "help" }
  | { kind: "version" };

/**
 * An error ipvsadm itself would report: `message` is its exact stderr text (without the
 * trailing newline) and `exitCode` its exit status (2 for fail(), 255 for usage/popt errors).
 */
export class IpvsadmUsageError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
    this.name = "IpvsadmUsageError";
  }
}

/**
 * A failure in one line of -R input; `detail` is ipvsadm's text for that line. ipvsadm
 * itself has applied the lines before it when it stops: `before` holds their commands.
 */
export class IpvsadmRestoreError extends IpvsadmUsageError {
  constructor(
    readonly line: number,
    readonly detail: string,
    exitCode: number,
    readonly before: readonly IpvsadmCommand[] = [],
  ) {
    super(`line ${line}: ${detail}`, exitCode);
    this.name = "IpvsadmRestoreError";
  }
}

/** Errors the kernel returns to ipvsadm (errno names). */
export type ServerErrorCode = "EEXIST" | "ENOENT" | "ESRCH" | "EINVAL" | "EPERM" | "ENOMEM";

// libipvs ipvs_strerror(): the text depends on which call failed.
const PER_COMMAND: Partial<
  Record<IpvsadmCommand["kind"], Partial<Record<ServerErrorCode, string>>>
> = {
  "add-service": {
    EEXIST: "Service already exists",
    ENOENT: "Scheduler or persistence engine not found",
  },
  "edit-service": { ESRCH: "No such service", ENOENT: "Scheduler or persistence engine not found" },
  "delete-service": { ESRCH: "No such service" },
  zero: { ESRCH: "No such service" },
  "add-server": { ESRCH: "Service not defined", EEXIST: "Destination already exists" },
  "edit-server": { ESRCH: "Service not defined", ENOENT: "No such destination" },
  "delete-server": { ESRCH: "Service not defined", ENOENT: "No such destination" },
  list: { ESRCH: "No such service" },
  save: { ESRCH: "No such service" },
};

const GENERIC: Record<ServerErrorCode, string> = {
  EPERM: "Permission denied (you must be root)",
  EINVAL: "Invalid operation.  Possibly wrong module version, address not unicast, ...",
  ENOMEM: "Memory allocation problem",
  // strerror() texts for the codes libipvs has no sentence for in this call.
  EEXIST: "File exists",
  ENOENT: "No such file or directory",
  ESRCH: "No such process",
};

/**
 * The message and exit status ipvsadm prints when the kernel refuses a command, e.g.
 * serverError("add-service", "ENOENT") for an unknown scheduler. Listing failures exit 1
 * (list_service/list_all call exit(1)); other commands return -1 from main (status 255).
 */
export function serverError(
  kind: IpvsadmCommand["kind"],
  code: ServerErrorCode,
): IpvsadmUsageError {
  const message = PER_COMMAND[kind]?.[code] ?? GENERIC[code];
  const exitCode = kind === "list" || kind === "save" ? 1 : 255;
  return new IpvsadmUsageError(message, exitCode);
}

/**
 * A command line ipvsadm accepts but lvslab's director cannot carry out (IPv6, SCTP, the
 * sync daemon, persistence engines). Exit status 2, like ipvsadm's own refusals.
 */
export class IpvsadmUnsupportedError extends IpvsadmUsageError {
  constructor(message: string) {
    super(message, 2);
    this.name = "IpvsadmUnsupportedError";
  }
}
