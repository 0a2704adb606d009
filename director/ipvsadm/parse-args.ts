// ipvsadm 1.31's command line (parse_options + process_options in ipvsadm.c): the same
// options, defaults, checks in the same order, and the same error texts and exit codes.
// Host names are never resolved (no DNS in the director's tools): a name that is not an
// address is refused the way ipvsadm refuses a name that does not resolve.
import { isIPv6 } from "node:net";
import {
  type ForwardMethod,
  type IpvsadmCommand,
  IpvsadmRestoreError,
  IpvsadmUnsupportedError,
  IpvsadmUsageError,
  type ListFormat,
  type ServiceRef,
  type TunnelOptions,
} from "./command.ts";
import { inetAton } from "./inet-aton.ts";
import { IPPROTO_TCP, IPPROTO_UDP, IPV4_MIN_HEADER_LEN } from "../packet/ipv4.ts";
import { UDP_HEADER_LEN } from "../packet/udp.ts";
import { DEFAULT_SCHEDULER } from "../schedulers/index.ts";
import { SCHED_FLAG_BITS, schedulerFlagNames, schedulerFlagOwner } from "../schedulers/flags.ts";
import { type PoptOption, PoptScanner } from "./popt.ts";
import { type ServiceNameTable, systemServices } from "./service-names.ts";

export interface ParseOptions {
  /** argv[0] as ipvsadm would print it in "Try `ipvsadm -h' ..."; default "ipvsadm". */
  program?: string;
  /** Port names table; default /etc/services (or the built-in table). */
  services?: ServiceNameTable;
  /** Set for lines of -R input: a nested -R is refused, as in ipvsadm. */
  readingStdin?: boolean;
}

// Commands, numbered as ipvsadm's CMD_* (1-based) so the matrix rows line up.
const CMD_NAMES = [
  "add-service",
  "edit-service",
  "delete-service",
  "flush",
  "list",
  "add-server",
  "delete-server",
  "edit-server",
  "set",
  "start-daemon",
  "stop-daemon",
  "restore",
  "save",
  "zero",
] as const;
type CmdName = (typeof CMD_NAMES)[number];

// Options, in ipvsadm's OPTC_* order (the matrix columns).
const OPT_NAMES = [
  "numeric",
  "connection",
  "service-address",
  "scheduler",
  "persistent",
  "netmask",
  "real-server",
  "forwarding-method",
  "weight",
  "u-threshold",
  "l-threshold",
  "mcast-interface",
  "timeout",
  "daemon",
  "stats",
  "rate",
  "thresholds",
  "persistent-conn",
  "nosort",
  "syncid",
  "exact",
  "ops",
  "pe",
  "sched-flags",
  "mcast-group",
  "mcast-port",
  "mcast-ttl",
  "sync-maxlen",
  "tun-info",
  "tun-type",
  "tun-port",
  "tun-nocsum",
  "tun-csum",
  "tun-remcsum",
] as const;
type OptName = (typeof OPT_NAMES)[number];

// commands_v_options: '+' compulsory, 'x' illegal, '1' exclusive, '.' optional.
const MATRIX: Record<CmdName, string> = {
  "add-service": "xx+...xxxxxxxxxxxxxxx...xxxxxxxxxx",
  "edit-service": "xx+...xxxxxxxxxxxxxxx...xxxxxxxxxx",
  "delete-service": "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  flush: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  list: ".11xxxxxxxxx11.......xxxxxxx.xxxxx",
  "add-server": "xx+xxx+....xxxxxxxxxxxxxxxxxx.....",
  "delete-server": "xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx",
  "edit-server": "xx+xxx+....xxxxxxxxxxxxxxxxxx.....",
  set: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  "start-daemon": "xxxxxxxxxxx.xxxxxxx.xxxx....xxxxxx",
  "stop-daemon": "xxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxx",
  restore: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  save: ".xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  zero: "xx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
};

// tunnel_types_v_options, columns tun-port, tun-nocsum, tun-csum, tun-remcsum.
const TUN_OPTS: readonly OptName[] = ["tun-port", "tun-nocsum", "tun-csum", "tun-remcsum"];
const TUN_MATRIX: Record<TunnelOptions["type"], string> = {
  ipip: "xxxx",
  gue: "+111",
  gre: "x11x",
};

function opt(long: string, short: string, arg: PoptOption["arg"], tag = short || long): PoptOption {
  return { long, short, arg, tag };
}

// ipvsadm's poptOption table; long "list" is listed twice there, the first wins.
const POPT_TABLE: readonly PoptOption[] = [
  opt("add-service", "A", "none"),
  opt("edit-service", "E", "none"),
  opt("delete-service", "D", "none"),
  opt("clear", "C", "none"),
  opt("list", "L", "none"),
  opt("list", "l", "none"),
  opt("zero", "Z", "none"),
  opt("add-server", "a", "none"),
  opt("edit-server", "e", "none"),
  opt("delete-server", "d", "none"),
  opt("set", "", "none"),
  opt("help", "h", "none"),
  opt("version", "v", "none"),
  opt("restore", "R", "none"),
  opt("save", "S", "none"),
  opt("start-daemon", "", "required"),
  opt("stop-daemon", "", "required"),
  opt("tcp-service", "t", "required"),
  opt("udp-service", "u", "required"),
  opt("sctp-service", "", "required"),
  opt("fwmark-service", "f", "required"),
  opt("scheduler", "s", "required"),
  opt("persistent", "p", "optional"),
  opt("netmask", "M", "required"),
  opt("real-server", "r", "required"),
  opt("masquerading", "m", "none"),
  opt("ipip", "i", "none"),
  opt("gatewaying", "g", "none"),
  opt("weight", "w", "required"),
  opt("u-threshold", "x", "required"),
  opt("l-threshold", "y", "required"),
  opt("numeric", "n", "none"),
  opt("connection", "c", "none"),
  opt("mcast-interface", "", "required"),
  opt("syncid", "", "required"),
  opt("timeout", "", "none"),
  opt("daemon", "", "none"),
  opt("stats", "", "none"),
  opt("rate", "", "none"),
  opt("thresholds", "", "none"),
  opt("persistent-conn", "", "none"),
  opt("nosort", "", "none"),
  opt("sort", "", "none"),
  opt("exact", "X", "none"),
  opt("ipv6", "6", "none"),
  opt("ops", "o", "none"),
  opt("pe", "", "required"),
  opt("sched-flags", "b", "required"),
  opt("mcast-group", "", "required"),
  opt("mcast-port", "", "required"),
  opt("mcast-ttl", "", "required"),
  opt("sync-maxlen", "", "required"),
  opt("tun-info", "", "none"),
  opt("tun-type", "", "required"),
  opt("tun-port", "", "required"),
  opt("tun-nocsum", "", "none"),
  opt("tun-csum", "", "none"),
  opt("tun-remcsum", "", "none"),
];

const FIRST_TAG_COMMANDS: Record<string, CmdName> = {
  A: "add-service",
  E: "edit-service",
  D: "delete-service",
  a: "add-server",
  e: "edit-server",
  d: "delete-server",
  C: "flush",
  L: "list",
  l: "list",
  Z: "zero",
  set: "set",
  R: "restore",
  S: "save",
};

const MAX_TIMEOUT = 86400 * 31;
// IPVS_SVC_PERSISTENT_TIMEOUT in libipvs.h is 6*60: a bare -p gives 360 s, although the
// man page says 300.
const DEFAULT_PERSISTENT_TIMEOUT = 360;
const INT_MAX = 2147483647;
const SCHEDNAME_MAX = 15; // IP_VS_SCHEDNAME_MAXLEN - 1, strncpy'd

function fail(message: string): never {
  throw new IpvsadmUsageError(message, 2);
}

/** strtol(s, &end, 10) accepting only a whole number within [min, max], else -1. */
function stringToNumber(s: string, min: number, max: number): number {
  if (!/^[ \t\n\v\f\r]*[+-]?\d+$/.test(s)) return -1;
  const n = Number(s.trim());
  return n >= min && n <= max ? n : -1;
}

function parseTimeout(arg: string | null, min: number, max: number): number {
  if (arg === null) return DEFAULT_PERSISTENT_TIMEOUT;
  const n = stringToNumber(arg, min, max);
  if (n === -1) fail(`invalid timeout value \`${arg}' specified`);
  return n;
}

type Proto = 0 | typeof IPPROTO_TCP | typeof IPPROTO_UDP;

interface SvcState {
  protocol: Proto;
  addr: number;
  port: number;
  fwmark: number;
}

const SERVICE_ADDR = 1;
const SERVICE_PORT = 2;

/** parse_service(): SERVICE_ADDR|SERVICE_PORT bits, 0 when the text is not host[:port]. */
function parseService(
  buf: string,
  target: SvcState,
  services: ServiceNameTable,
): number {
  if (/^\d*$/.test(buf)) return 0; // str_is_digit: a bare port is not a service
  if (buf[0] === "[" || isIPv6(buf)) {
    throw new IpvsadmUnsupportedError(
      `${buf}: lvslab's director is IPv4 only; give an IPv4 address[:port].`,
    );
  }
  const colon = buf.lastIndexOf(":");
  const host = colon < 0 ? buf : buf.slice(0, colon);
  const addr = inetAton(host);
  if (addr === null) return 0;
  target.addr = addr;
  if (colon < 0) return SERVICE_ADDR;
  const portText = buf.slice(colon + 1);
  let port = stringToNumber(portText, 0, 65535);
  if (port === -1 && target.protocol !== 0) {
    port = services.portOf(portText, target.protocol === IPPROTO_TCP ? "tcp" : "udp") ?? -1;
  }
  if (port === -1) return 0;
  target.port = port;
  return SERVICE_ADDR | SERVICE_PORT;
}

/** parse_sched_flags(): sh-* flags need sh, mh-* need mh (checked here, as ipvsadm does). */
function parseSchedFlags(sched: string, arg: string): number {
  const scheduler = sched === "" ? DEFAULT_SCHEDULER : sched;
  const flags = arg.split(",").filter((f) => f !== "");
  if (flags.length === 0) fail(`invalid scheduler flag \`${arg}'`);
  let bits = 0;
  for (const flag of flags) {
    const bit = SCHED_FLAG_BITS[flag];
    if (bit === undefined) fail(`invalid scheduler flag \`${flag}'`);
    const owner = schedulerFlagOwner(flag);
    if (owner !== null && scheduler !== owner) fail(`incompatible scheduler flag \`${flag}'`);
    bits |= bit;
  }
  return bits;
}

/** Flag bits as names for `scheduler`, in the order ipvsadm prints them. */
export const schedFlagNames = schedulerFlagNames;

function isMulticastV4(text: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m || m.slice(1).some((p) => Number(p) > 255)) return false;
  return Number(m[1]) >= 224 && Number(m[1]) <= 239;
}

/**
 * Parses ipvsadm's arguments (without the program name) into a command, or throws
 * IpvsadmUsageError with ipvsadm's message and exit status. An empty argv lists the table,
 * as a bare `ipvsadm` does.
 */
export function parseIpvsadmArgs(
  argv: readonly string[],
  options: ParseOptions = {},
): IpvsadmCommand {
  const program = options.program ?? "ipvsadm";
  const services = options.services ?? systemServices();
  const tryHelp = () =>
    new IpvsadmUsageError(`Try \`${program} -h' or '${program} --help' for more information.`, 255);

  if (argv.length === 0) {
    return {
      kind: "list",
      view: "services",
      format: "plain",
      numeric: false,
      exact: false,
      sort: true,
    };
  }

  const scanner = new PoptScanner(argv, POPT_TABLE);
  const first = scanner.nextOption();
  if (first.kind !== "option") throw tryHelp();
  if (first.tag === "h") return { kind: "help" };
  if (first.tag === "v") return { kind: "version" };
  if (first.tag === "start-daemon" || first.tag === "stop-daemon") {
    throw new IpvsadmUnsupportedError(
      `--${first.tag}: lvslab's director has no connection sync daemon.`,
    );
  }
  const cmd = FIRST_TAG_COMMANDS[first.tag];
  if (cmd === undefined) throw tryHelp();
  if (cmd === "restore" && options.readingStdin) throw tryHelp();

  const given = new Set<OptName>();
  const setOption = (name: OptName) => {
    if (given.has(name)) fail(`multiple '${name}' options specified`);
    given.add(name);
  };

  const svc: SvcState = { protocol: 0, addr: 0, port: 0, fwmark: 0 };
  let scheduler = "";
  let persistent = false;
  let persistTimeout = 0;
  let netmask = 0xffffffff;
  let onePacket = false;
  let schedFlagsArg = "";
  let ipv6Fwmark = false;
  const dest = {
    addr: 0,
    port: 0,
    method: "route" as ForwardMethod,
    weight: 1,
    upper: 0,
    lower: 0,
  };
  const tunnel = { type: "ipip" as TunnelOptions["type"], port: 0, flags: 0 };

  for (;;) {
    const r = scanner.nextOption();
    if (r.kind === "end") break;
    if (r.kind === "error") throw new IpvsadmUsageError(`${r.word}: ${r.error}`, 255);
    const arg = r.arg ?? "";
    switch (r.tag) {
      case "t":
      case "u": {
        setOption("service-address");
        svc.protocol = r.tag === "t" ? IPPROTO_TCP : IPPROTO_UDP;
        if (!(parseService(arg, svc, services) & SERVICE_ADDR)) {
          fail("illegal virtual server address[:port] specified");
        }
        break;
      }
      case "sctp-service":
        throw new IpvsadmUnsupportedError(
          "--sctp-service: lvslab's director handles TCP and UDP services only; use -t or -u.",
        );
      case "f": {
        setOption("service-address");
        svc.protocol = IPPROTO_TCP; // ipvsadm sets a sane protocol for fwmark services too
        if (!/^[ \t\n\v\f\r]*[+-]?\d+$/.test(arg)) fail(`invalid fwmark value \`${arg}' specified`);
        const mark = Number(arg.trim());
        if (mark <= 0 || mark > 0xffffffff) fail(`invalid fwmark value \`${arg}' specified`);
        svc.fwmark = mark;
        break;
      }
      case "s":
        setOption("scheduler");
        scheduler = arg.slice(0, SCHEDNAME_MAX);
        break;
      case "p":
        setOption("persistent");
        persistent = true;
        persistTimeout = parseTimeout(r.arg, 1, MAX_TIMEOUT);
        break;
      case "M": {
        setOption("netmask");
        const mask = inetAton(arg);
        if (mask === null) fail("illegal virtual server persistent mask specified");
        netmask = mask;
        break;
      }
      case "r": {
        setOption("real-server");
        const target: SvcState = { ...svc };
        const parsed = parseService(arg, target, services);
        if (!(parsed & SERVICE_ADDR)) fail("illegal real server address[:port] specified");
        dest.addr = target.addr;
        dest.port = parsed & SERVICE_PORT ? target.port : svc.port;
        break;
      }
      case "i":
      case "g":
      case "m":
        setOption("forwarding-method");
        dest.method = r.tag === "i" ? "tunnel" : r.tag === "g" ? "route" : "masq";
        break;
      case "w":
        setOption("weight");
        dest.weight = stringToNumber(arg, 0, 65535);
        if (dest.weight === -1) fail("illegal weight specified");
        break;
      case "x":
        setOption("u-threshold");
        dest.upper = stringToNumber(arg, 0, INT_MAX);
        if (dest.upper === -1) fail("illegal u_threshold specified");
        break;
      case "y":
        setOption("l-threshold");
        dest.lower = stringToNumber(arg, 0, INT_MAX);
        if (dest.lower === -1) fail("illegal l_threshold specified");
        break;
      case "c":
        setOption("connection");
        break;
      case "n":
        setOption("numeric");
        break;
      case "mcast-interface":
        setOption("mcast-interface");
        break;
      case "syncid":
        setOption("syncid");
        if (stringToNumber(arg, 0, 255) === -1) fail("illegal syncid specified");
        break;
      case "timeout":
      case "daemon":
      case "stats":
      case "rate":
      case "thresholds":
      case "persistent-conn":
      case "nosort":
      case "tun-info":
        setOption(r.tag);
        break;
      case "sort":
        break; // a no-op kept for compatibility: sorting is the default
      case "X":
        setOption("exact");
        break;
      case "6":
        if (svc.fwmark === 0) fail("-6 used before -f\n");
        ipv6Fwmark = true;
        break;
      case "o":
        setOption("ops");
        onePacket = true;
        break;
      case "pe":
        setOption("pe");
        break;
      case "b":
        setOption("sched-flags");
        schedFlagsArg = arg.slice(0, 127);
        break;
      case "mcast-group":
        setOption("mcast-group");
        if (arg.includes(":")) {
          if (!isIPv6(arg) || !/^ff/i.test(arg)) fail(`invalid IPv6 mcast-group \`${arg}'`);
        } else if (!isMulticastV4(arg)) {
          fail(`invalid IPv4 mcast-group \`${arg}'`);
        }
        break;
      case "mcast-port":
        setOption("mcast-port");
        if (stringToNumber(arg, 1, 65535) === -1) fail("illegal mcast-port specified");
        break;
      case "mcast-ttl":
        setOption("mcast-ttl");
        if (stringToNumber(arg, 1, 255) === -1) fail("illegal mcast-ttl specified");
        break;
      case "sync-maxlen":
        setOption("sync-maxlen");
        if (stringToNumber(arg, 1, 65535 - IPV4_MIN_HEADER_LEN - UDP_HEADER_LEN) === -1) {
          fail("illegal sync-maxlen specified");
        }
        break;
      case "tun-type": {
        setOption("tun-type");
        if (arg !== "ipip" && arg !== "gue" && arg !== "gre") fail("illegal tunnel type specified");
        tunnel.type = arg;
        break;
      }
      case "tun-port":
        setOption("tun-port");
        tunnel.port = stringToNumber(arg, 1, 65535);
        if (tunnel.port === -1) fail("illegal tunnel port specified");
        break;
      case "tun-nocsum":
        setOption("tun-nocsum");
        break;
      case "tun-csum":
        setOption("tun-csum");
        tunnel.flags |= 1;
        break;
      case "tun-remcsum":
        setOption("tun-remcsum");
        tunnel.flags |= 2;
        break;
      default:
        // A second command (or -h/-v after a command) is just an option ipvsadm does not take here.
        fail(`invalid option \`${r.word}'`);
    }
  }

  const leftovers = [...scanner.leftovers];
  let timeouts: { tcp: number; tcpfin: number; udp: number } | undefined;
  if (cmd === "set") {
    if (leftovers.length < 3) fail("--set option requires 3 timeout values");
    const [tcp, tcpfin, udp] = leftovers.splice(0, 3);
    timeouts = {
      tcp: parseTimeout(tcp, 0, MAX_TIMEOUT),
      tcpfin: parseTimeout(tcpfin, 0, MAX_TIMEOUT),
      udp: parseTimeout(udp, 0, MAX_TIMEOUT),
    };
  }
  if (leftovers.length > 0) fail(`unexpected argument ${leftovers[0]}`);

  const schedFlagBits = schedFlagsArg === "" ? 0 : parseSchedFlags(scheduler, schedFlagsArg);

  checkMatrix(cmd, given);

  if (cmd === "add-service" || cmd === "edit-service") {
    if (svc.fwmark === 0 && svc.port === 0 && !persistent) {
      fail("Zero port specified for non-persistent service");
    }
    if (onePacket && svc.fwmark === 0 && svc.protocol !== IPPROTO_UDP) {
      fail("One-Packet Scheduling is only for UDP virtual services");
    }
    if (scheduler === "") scheduler = DEFAULT_SCHEDULER;
  }

  if (cmd === "add-server" || cmd === "edit-server") {
    // DR and tunnelling cannot change the port: the server sees the virtual one.
    if (svc.fwmark === 0 && (dest.method === "tunnel" || dest.method === "route")) {
      dest.port = svc.port;
    }
    const tunnelGiven = (["tun-type", "tun-port", "tun-nocsum", "tun-csum", "tun-remcsum"] as const)
      .some((o) => given.has(o));
    if (tunnelGiven && dest.method !== "tunnel") {
      fail("Tunnel options conflict with forward method");
    }
    checkTunnelMatrix(tunnel.type, given);
  }

  if (cmd === "list") {
    const any = (...names: OptName[]) => names.some((n) => given.has(n));
    if (
      (any("connection", "timeout", "daemon") && any("stats", "rate", "thresholds")) ||
      (any("timeout", "daemon") && any("persistent-conn"))
    ) {
      fail("options conflicts in the list command");
    }
  }

  // Valid ipvsadm, but beyond what lvslab's director does.
  if (given.has("daemon")) {
    throw new IpvsadmUnsupportedError(
      "--daemon: lvslab's director has no connection sync daemon to list.",
    );
  }
  if (given.has("pe")) {
    throw new IpvsadmUnsupportedError(
      "--pe: lvslab's director has no persistence engines; plain persistence (-p) works.",
    );
  }
  if (ipv6Fwmark) throw new IpvsadmUnsupportedError("-6: lvslab's director is IPv4 only.");

  const service: ServiceRef = svc.fwmark !== 0
    ? { protocol: "fwmark", addr: 0, port: 0, fwmark: svc.fwmark }
    : { protocol: svc.protocol === IPPROTO_UDP ? "udp" : "tcp", addr: svc.addr, port: svc.port };
  const server = { addr: dest.addr, port: dest.port };

  switch (cmd) {
    case "add-service":
    case "edit-service":
      return {
        kind: cmd,
        service,
        scheduler,
        schedFlags: schedFlagNames(scheduler, schedFlagBits),
        persistent: persistent ? persistTimeout : 0,
        netmask,
        onePacket,
      };
    case "delete-service":
      return { kind: "delete-service", service };
    case "flush":
      return { kind: "clear" };
    case "zero":
      return given.has("service-address") ? { kind: "zero", service } : { kind: "zero" };
    case "add-server":
    case "edit-server":
      return {
        kind: cmd,
        service,
        server,
        method: dest.method,
        weight: dest.weight,
        upper: dest.upper,
        lower: dest.lower,
        ...(dest.method === "tunnel" ? { tunnel: tunnelOptions(tunnel) } : {}),
      };
    case "delete-server":
      return { kind: "delete-server", service, server };
    case "set":
      return { kind: "set-timeouts", ...timeouts! };
    case "restore":
      return { kind: "restore" };
    case "save":
      return { kind: "save", numeric: given.has("numeric") };
    case "list":
      return {
        kind: "list",
        view: given.has("connection")
          ? "connections"
          : given.has("service-address")
          ? "services"
          : given.has("timeout")
          ? "timeouts"
          : "services",
        ...(given.has("service-address") && !given.has("connection") ? { service } : {}),
        format: listFormat(given),
        numeric: given.has("numeric"),
        exact: given.has("exact"),
        sort: !given.has("nosort"),
      };
    case "start-daemon":
    case "stop-daemon":
      throw new Error("unreachable: refused above");
  }
}

function tunnelOptions(
  t: { type: TunnelOptions["type"]; port: number; flags: number },
): TunnelOptions {
  const checksum = t.flags & 2 ? "remcsum" : t.flags & 1 ? "csum" : "nocsum";
  return { type: t.type, port: t.port, checksum };
}

// ipvsadm prints with the first of these that is set (print_title / print_service_entry).
function listFormat(given: Set<OptName>): ListFormat {
  const order: [OptName, ListFormat][] = [
    ["stats", "stats"],
    ["rate", "rate"],
    ["thresholds", "thresholds"],
    ["persistent-conn", "persistent-conn"],
    ["tun-info", "tun-info"],
  ];
  return order.find(([o]) => given.has(o))?.[1] ?? "plain";
}

/** generic_opt_check(): walks the options in table order and reports the first problem. */
function checkMatrix(cmd: CmdName, given: Set<OptName>): void {
  const row = MATRIX[cmd];
  let exclusive: OptName | null = null;
  OPT_NAMES.forEach((name, j) => {
    const rule = row[j];
    if (!given.has(name)) {
      if (rule === "+") fail(`You need to supply the '${name}' option for the '${cmd}' command`);
      return;
    }
    if (rule === "x") fail(`Illegal '${name}' option with the '${cmd}' command`);
    if (rule === "1") {
      if (exclusive === null) exclusive = name;
      else {fail(
          `The option '${name}' conflicts with the '${exclusive}' option in the '${cmd}' command`,
        );}
    }
  });
}

/** tunnel_opt_check(): which tunnel options each tunnel type takes. */
function checkTunnelMatrix(type: TunnelOptions["type"], given: Set<OptName>): void {
  const row = TUN_MATRIX[type];
  let exclusive: OptName | null = null;
  TUN_OPTS.forEach((name, j) => {
    const rule = row[j];
    if (!given.has(name)) {
      if (rule === "+") {
        fail(`You need to supply the '${name}' option for the '${type}' tunnel type`);
      }
      return;
    }
    if (rule === "x") fail(`Illegal '${name}' option with the '${type}' tunnel type`);
    if (rule === "1") {
      if (exclusive === null) exclusive = name;
      else {fail(
          `The option '${name}' conflicts with the '${exclusive}' option in the '${type}' tunnel type`,
        );}
    }
  });
}

/**
 * Parses -R input: one ipvsadm command per line, in -S format. Words are split on blanks,
 * the word "ipvsadm" is dropped wherever it appears and blank lines are skipped, as
 * ipvsadm's config_stream does; lines starting with '#' are skipped, as the
 * ipvsadm-restore wrapper does. Errors carry the 1-based line number.
 */
export function parseRestoreInput(text: string, options: ParseOptions = {}): IpvsadmCommand[] {
  const commands: IpvsadmCommand[] = [];
  text.split("\n").forEach((line, index) => {
    const words = line.split(/[ \t\r]+/).filter((w) => w !== "" && w !== "ipvsadm");
    if (words.length === 0 || words[0].startsWith("#")) return;
    try {
      commands.push(parseIpvsadmArgs(words, { ...options, readingStdin: true }));
    } catch (err) {
      if (err instanceof IpvsadmUsageError) {
        throw new IpvsadmRestoreError(index + 1, err.message, err.exitCode, [...commands]);
      }
      throw err;
    }
  });
  return commands;
}
