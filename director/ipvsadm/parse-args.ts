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
import { type PoptOption, type PoptResult, PoptScanner } from "./popt.ts";
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

  const o = scanOptions(scanner, services);
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

  const schedFlagBits = o.schedFlagsArg === "" ? 0 : parseSchedFlags(o.scheduler, o.schedFlagsArg);

  checkCommandOptions(cmd, o);
  return buildCommand(cmd, o, timeouts, schedFlagBits);
}

/** What the options set (process_options' local variables in ipvsadm.c). */
interface ParsedOptions {
  given: Set<OptName>;
  svc: SvcState;
  scheduler: string;
  persistent: boolean;
  persistTimeout: number;
  netmask: number;
  onePacket: boolean;
  schedFlagsArg: string;
  ipv6Fwmark: boolean;
  dest: {
    addr: number;
    port: number;
    method: ForwardMethod;
    weight: number;
    upper: number;
    lower: number;
  };
  tunnel: { type: TunnelOptions["type"]; port: number; flags: number };
}

type OptionResult = Extract<PoptResult, { kind: "option" }>;

/** Records an option; ipvsadm refuses one given twice. */
function setOption(o: ParsedOptions, name: OptName): void {
  if (o.given.has(name)) fail(`multiple '${name}' options specified`);
  o.given.add(name);
}

/** Reads every option after the command (the option loop of parse_options). */
function scanOptions(scanner: PoptScanner, services: ServiceNameTable): ParsedOptions {
  const o: ParsedOptions = {
    given: new Set<OptName>(),
    svc: { protocol: 0, addr: 0, port: 0, fwmark: 0 },
    scheduler: "",
    persistent: false,
    persistTimeout: 0,
    netmask: 0xffffffff,
    onePacket: false,
    schedFlagsArg: "",
    ipv6Fwmark: false,
    dest: { addr: 0, port: 0, method: "route", weight: 1, upper: 0, lower: 0 },
    tunnel: { type: "ipip", port: 0, flags: 0 },
  };
  for (;;) {
    const r = scanner.nextOption();
    if (r.kind === "end") return o;
    if (r.kind === "error") throw new IpvsadmUsageError(`${r.word}: ${r.error}`, 255);
    if (
      !applyServiceOption(o, r, services) && !applyServerOption(o, r, services) &&
      !applyOtherOption(o, r)
    ) {
      // A second command (or -h/-v after a command) is just an option ipvsadm does not take here.
      fail(`invalid option \`${r.word}'`);
    }
  }
}

/** A virtual-service option (-t/-u/-f, -s, -p, -M, -b, -o, -6, --pe); false if not one. */
function applyServiceOption(
  o: ParsedOptions,
  r: OptionResult,
  services: ServiceNameTable,
): boolean {
  const arg = r.arg ?? "";
  switch (r.tag) {
    case "t":
    case "u": {
      setOption(o, "service-address");
      o.svc.protocol = r.tag === "t" ? IPPROTO_TCP : IPPROTO_UDP;
      if (!(parseService(arg, o.svc, services) & SERVICE_ADDR)) {
        fail("illegal virtual server address[:port] specified");
      }
      return true;
    }
    case "sctp-service":
      throw new IpvsadmUnsupportedError(
        "--sctp-service: lvslab's director handles TCP and UDP services only; use -t or -u.",
      );
    case "f": {
      setOption(o, "service-address");
      o.svc.protocol = IPPROTO_TCP; // ipvsadm sets a sane protocol for fwmark services too
      if (!/^[ \t\n\v\f\r]*[+-]?\d+$/.test(arg)) fail(`invalid fwmark value \`${arg}' specified`);
      const mark = Number(arg.trim());
      if (mark <= 0 || mark > 0xffffffff) fail(`invalid fwmark value \`${arg}' specified`);
      o.svc.fwmark = mark;
      return true;
    }
    case "s":
      setOption(o, "scheduler");
      o.scheduler = arg.slice(0, SCHEDNAME_MAX);
      return true;
    case "p":
      setOption(o, "persistent");
      o.persistent = true;
      o.persistTimeout = parseTimeout(r.arg, 1, MAX_TIMEOUT);
      return true;
    case "M": {
      setOption(o, "netmask");
      const mask = inetAton(arg);
      if (mask === null) fail("illegal virtual server persistent mask specified");
      o.netmask = mask;
      return true;
    }
    case "6":
      if (o.svc.fwmark === 0) fail("-6 used before -f\n");
      o.ipv6Fwmark = true;
      return true;
    case "o":
      setOption(o, "ops");
      o.onePacket = true;
      return true;
    case "pe":
      setOption(o, "pe");
      return true;
    case "b":
      setOption(o, "sched-flags");
      o.schedFlagsArg = arg.slice(0, 127);
      return true;
    default:
      return false;
  }
}

/** A real-server option (-r, -g/-i/-m, -w, -x, -y, --tun-*); false if not one. */
function applyServerOption(o: ParsedOptions, r: OptionResult, services: ServiceNameTable): boolean {
  const arg = r.arg ?? "";
  switch (r.tag) {
    case "r": {
      setOption(o, "real-server");
      const target: SvcState = { ...o.svc };
      const parsed = parseService(arg, target, services);
      if (!(parsed & SERVICE_ADDR)) fail("illegal real server address[:port] specified");
      o.dest.addr = target.addr;
      o.dest.port = parsed & SERVICE_PORT ? target.port : o.svc.port;
      return true;
    }
    case "i":
    case "g":
    case "m":
      setOption(o, "forwarding-method");
      o.dest.method = r.tag === "i" ? "tunnel" : r.tag === "g" ? "route" : "masq";
      return true;
    case "w":
      setOption(o, "weight");
      o.dest.weight = stringToNumber(arg, 0, 65535);
      if (o.dest.weight === -1) fail("illegal weight specified");
      return true;
    case "x":
      setOption(o, "u-threshold");
      o.dest.upper = stringToNumber(arg, 0, INT_MAX);
      if (o.dest.upper === -1) fail("illegal u_threshold specified");
      return true;
    case "y":
      setOption(o, "l-threshold");
      o.dest.lower = stringToNumber(arg, 0, INT_MAX);
      if (o.dest.lower === -1) fail("illegal l_threshold specified");
      return true;
    case "tun-type": {
      setOption(o, "tun-type");
      if (arg !== "ipip" && arg !== "gue" && arg !== "gre") fail("illegal tunnel type specified");
      o.tunnel.type = arg;
      return true;
    }
    case "tun-port":
      setOption(o, "tun-port");
      o.tunnel.port = stringToNumber(arg, 1, 65535);
      if (o.tunnel.port === -1) fail("illegal tunnel port specified");
      return true;
    case "tun-nocsum":
      setOption(o, "tun-nocsum");
      return true;
    case "tun-csum":
      setOption(o, "tun-csum");
      o.tunnel.flags |= 1;
      return true;
    case "tun-remcsum":
      setOption(o, "tun-remcsum");
      o.tunnel.flags |= 2;
      return true;
    default:
      return false;
  }
}

/** Any other option (listing, sync daemon); false if ipvsadm has none of that name. */
function applyOtherOption(o: ParsedOptions, r: OptionResult): boolean {
  const arg = r.arg ?? "";
  switch (r.tag) {
    case "c":
      setOption(o, "connection");
      return true;
    case "n":
      setOption(o, "numeric");
      return true;
    case "mcast-interface":
      setOption(o, "mcast-interface");
      return true;
    case "syncid":
      setOption(o, "syncid");
      if (stringToNumber(arg, 0, 255) === -1) fail("illegal syncid specified");
      return true;
    case "timeout":
    case "daemon":
    case "stats":
    case "rate":
    case "thresholds":
    case "persistent-conn":
    case "nosort":
    case "tun-info":
      setOption(o, r.tag);
      return true;
    case "sort":
      return true; // a no-op kept for compatibility: sorting is the default
    case "X":
      setOption(o, "exact");
      return true;
    case "mcast-group":
      setOption(o, "mcast-group");
      if (arg.includes(":")) {
        if (!isIPv6(arg) || !/^ff/i.test(arg)) fail(`invalid IPv6 mcast-group \`${arg}'`);
      } else if (!isMulticastV4(arg)) {
        fail(`invalid IPv4 mcast-group \`${arg}'`);
      }
      return true;
    case "mcast-port":
      setOption(o, "mcast-port");
      if (stringToNumber(arg, 1, 65535) === -1) fail("illegal mcast-port specified");
      return true;
    case "mcast-ttl":
      setOption(o, "mcast-ttl");
      if (stringToNumber(arg, 1, 255) === -1) fail("illegal mcast-ttl specified");
      return true;
    case "sync-maxlen":
      setOption(o, "sync-maxlen");
      if (stringToNumber(arg, 1, 65535 - IPV4_MIN_HEADER_LEN - UDP_HEADER_LEN) === -1) {
        fail("illegal sync-maxlen specified");
      }
      return true;
    default:
      return false;
  }
}

/** The checks process_options makes once every option is read (beyond the option matrix). */
function checkCommandOptions(cmd: CmdName, o: ParsedOptions): void {
  checkMatrix(cmd, o.given);

  if (cmd === "add-service" || cmd === "edit-service") {
    if (o.svc.fwmark === 0 && o.svc.port === 0 && !o.persistent) {
      fail("Zero port specified for non-persistent service");
    }
    if (o.onePacket && o.svc.fwmark === 0 && o.svc.protocol !== IPPROTO_UDP) {
      fail("One-Packet Scheduling is only for UDP virtual services");
    }
    if (o.scheduler === "") o.scheduler = DEFAULT_SCHEDULER;
  }

  if (cmd === "add-server" || cmd === "edit-server") {
    // DR and tunnelling cannot change the port: the server sees the virtual one.
    if (o.svc.fwmark === 0 && (o.dest.method === "tunnel" || o.dest.method === "route")) {
      o.dest.port = o.svc.port;
    }
    const tunnelGiven = (["tun-type", "tun-port", "tun-nocsum", "tun-csum", "tun-remcsum"] as const)
      .some((name) => o.given.has(name));
    if (tunnelGiven && o.dest.method !== "tunnel") {
      fail("Tunnel options conflict with forward method");
    }
    checkTunnelMatrix(o.tunnel.type, o.given);
  }

  if (cmd === "list") {
    const any = (...names: OptName[]) => names.some((n) => o.given.has(n));
    if (
      (any("connection", "timeout", "daemon") && any("stats", "rate", "thresholds")) ||
      (any("timeout", "daemon") && any("persistent-conn"))
    ) {
      fail("options conflicts in the list command");
    }
  }

  // Valid ipvsadm, but beyond what lvslab's director does.
  if (o.given.has("daemon")) {
    throw new IpvsadmUnsupportedError(
      "--daemon: lvslab's director has no connection sync daemon to list.",
    );
  }
  if (o.given.has("pe")) {
    throw new IpvsadmUnsupportedError(
      "--pe: lvslab's director has no persistence engines; plain persistence (-p) works.",
    );
  }
  if (o.ipv6Fwmark) throw new IpvsadmUnsupportedError("-6: lvslab's director is IPv4 only.");
}

/** The command the parsed options make. */
function buildCommand(
  cmd: CmdName,
  o: ParsedOptions,
  timeouts: { tcp: number; tcpfin: number; udp: number } | undefined,
  schedFlagBits: number,
): IpvsadmCommand {
  const service: ServiceRef = o.svc.fwmark !== 0
    ? { protocol: "fwmark", addr: 0, port: 0, fwmark: o.svc.fwmark }
    : {
      protocol: o.svc.protocol === IPPROTO_UDP ? "udp" : "tcp",
      addr: o.svc.addr,
      port: o.svc.port,
    };
  const server = { addr: o.dest.addr, port: o.dest.port };

  switch (cmd) {
    case "add-service":
    case "edit-service":
      return {
        kind: cmd,
        service,
        scheduler: o.scheduler,
        schedFlags: schedFlagNames(o.scheduler, schedFlagBits),
        persistent: o.persistent ? o.persistTimeout : 0,
        netmask: o.netmask,
        onePacket: o.onePacket,
      };
    case "delete-service":
      return { kind: "delete-service", service };
    case "flush":
      return { kind: "clear" };
    case "zero":
      return o.given.has("service-address") ? { kind: "zero", service } : { kind: "zero" };
    case "add-server":
    case "edit-server":
      return {
        kind: cmd,
        service,
        server,
        method: o.dest.method,
        weight: o.dest.weight,
        upper: o.dest.upper,
        lower: o.dest.lower,
        ...(o.dest.method === "tunnel" ? { tunnel: tunnelOptions(o.tunnel) } : {}),
      };
    case "delete-server":
      return { kind: "delete-server", service, server };
    case "set":
      return { kind: "set-timeouts", ...timeouts! };
    case "restore":
      return { kind: "restore" };
    case "save":
      return { kind: "save", numeric: o.given.has("numeric") };
    case "list":
      return {
        kind: "list",
        view: o.given.has("connection")
          ? "connections"
          : o.given.has("service-address")
          ? "services"
          : o.given.has("timeout")
          ? "timeouts"
          : "services",
        ...(o.given.has("service-address") && !o.given.has("connection") ? { service } : {}),
        format: listFormat(o.given),
        numeric: o.given.has("numeric"),
        exact: o.given.has("exact"),
        sort: !o.given.has("nosort"),
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
