// ipvsadm 1.31's output, byte for byte: list_all/list_service (print_title,
// print_service_entry, print_largenum), list_conn (print_conn), list_timeout and the
// -S rules. The printf formats are noted beside the code that reproduces them.
//
// Without -n ipvsadm prints names: addresses through gethostbyaddr (DNS), ports through
// getservbyport (/etc/services). lvslab never does DNS, so addresses stay numeric (what
// ipvsadm prints when a reverse lookup finds nothing) while ports get their service names
// ("203.0.113.5:http"), so the two modes still differ exactly where ipvsadm's would.
import { formatIPv4 } from "../net/ipv4-address.ts";
import { FORWARD_METHOD_LABELS, FORWARD_METHOD_SWITCHES } from "../forwarding/method-names.ts";
import { printedSchedulerFlagNames, schedulerFlagBits } from "../schedulers/flags.ts";
import type { ListFormat } from "./command.ts";
import type { TunnelChecksum, TunnelOptions } from "../service/tunnel-options.ts";
import { type ServiceNameTable, systemServices } from "./service-names.ts";
import type {
  ConnectionSnapshot,
  DestinationRow,
  ListSnapshot,
  ServiceRow,
  TimeoutsSnapshot,
} from "./snapshot-types.ts";

/** The kernel's IP_VS_VERSION_CODE, 0x010201. */
export const IPVS_VERSION = "1.2.1";

export interface ListOptions {
  numeric: boolean;
  /** --exact: full numbers instead of K/M/G/T. */
  exact: boolean;
  format: ListFormat;
  /** false with --nosort. */
  sort: boolean;
  /** Port names for non-numeric output; default /etc/services (or the built-in table). */
  services?: ServiceNameTable;
}

export interface ConnectionListOptions {
  numeric: boolean;
  /** --persistent-conn: the header gains "pe name" and "pe_data" columns. */
  persistentConn?: boolean;
  services?: ServiceNameTable;
}

const padRight = (s: string, width: number) => s.padEnd(width); // %-Ns
const padLeft = (s: string, width: number) => s.padStart(width); // %Ns

const toBig = (n: number) => BigInt(Math.max(0, Math.trunc(n)));

/**
 * print_largenum(): "%9llu" below 100 million, else "%8lluK" / "%8lluM" / "%8lluG" /
 * "%8lluT" (i / 1e3, 1e6, 1e9, 1e12, truncated); with --exact "%*llu", width 9 or
 * digits + 1, so there is always a space in front.
 */
export function formatLargeNumber(value: number, exact: boolean): string {
  const i = toBig(value);
  const digits = i.toString();
  if (exact) return padLeft(digits, digits.length <= 8 ? 9 : digits.length + 1);
  if (i < 100000000n) return padLeft(digits, 9);
  if (i < 1000000000n) return padLeft((i / 1000n).toString(), 8) + "K";
  if (i < 100000000000n) return padLeft((i / 1000000n).toString(), 8) + "M";
  if (i < 100000000000000n) return padLeft((i / 1000000000n).toString(), 8) + "G";
  return padLeft((i / 1000000000000n).toString(), 8) + "T";
}

const PROTO_NUMBER = { tcp: 6, udp: 17 } as const;

/** addrport_to_anyname(): "addr:port", the port as a service name unless numeric. */
function addrPort(
  addr: number,
  port: number,
  proto: "tcp" | "udp",
  numeric: boolean,
  services: ServiceNameTable,
): string {
  const portText = numeric ? String(port) : services.nameOf(port, proto) ?? String(port);
  return `${formatIPv4(addr)}:${portText}`;
}

/**
 * glibc's qsort (a top-down merge sort) with libipvs's comparators. Those subtract
 * addresses in a C int, so two addresses 2^31 or more apart compare "backwards"
 * (203.0.113.5 before 10.0.0.1); the same merge order gives the same output.
 */
function glibcMergeSort<T>(items: T[], cmp: (a: T, b: T) => number): T[] {
  if (items.length <= 1) return items.slice();
  const n1 = Math.floor(items.length / 2);
  const left = glibcMergeSort(items.slice(0, n1), cmp);
  const right = glibcMergeSort(items.slice(n1), cmp);
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    out.push(cmp(left[i], right[j]) <= 0 ? left[i++] : right[j++]);
  }
  return out.concat(left.slice(i), right.slice(j));
}

const intDiff = (a: number, b: number) => (a - b) | 0; // C: (int)(u32 - u32)

/** ipvs_cmp_services(): fwmark, family, protocol, address, port. */
function compareServices(a: ServiceRow, b: ServiceRow): number {
  return PROTO_NUMBER[a.protocol] - PROTO_NUMBER[b.protocol] || intDiff(a.addr, b.addr) ||
    a.port - b.port;
}

/** ipvs_cmp_dests(): address, port. */
function compareDests(a: DestinationRow, b: DestinationRow): number {
  return intDiff(a.addr, b.addr) || a.port - b.port;
}

/** print_sched_flags(): sh and mh name their two bits (and drop flag-3); others print flag-N. */
function schedFlagsText(row: ServiceRow): string {
  const bits = schedulerFlagBits(row.schedulerFlags);
  return printedSchedulerFlagNames(row.schedulerName, bits).join(",");
}

/** print_title() for the list formats. */
function title(format: ListFormat): string {
  const head = padRight("Prot LocalAddress:Port", 33);
  switch (format) {
    case "stats": // "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n"
      return `${head} ${
        ["Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"].map((s) => padLeft(s, 8)).join(" ")
      }\n` +
        "  -> RemoteAddress:Port\n";
    case "rate":
      return `${head} ${
        ["CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"].map((s) => padLeft(s, 8)).join(" ")
      }\n` +
        "  -> RemoteAddress:Port\n";
    case "thresholds": // "%-33s %-10s %-10s %-10s %-10s\n"
      return `${head} ${
        ["Uthreshold", "Lthreshold", "ActiveConn", "InActConn"].map((s) => padRight(s, 10)).join(
          " ",
        )
      }\n` +
        "  -> RemoteAddress:Port\n";
    case "persistent-conn": // "%-33s %-9s %-11s %-10s %-10s\n"
      return `${head} ${padRight("Weight", 9)} ${padRight("PersistConn", 11)} ${
        padRight("ActiveConn", 10)
      } ${padRight("InActConn", 10)}\n` + "  -> RemoteAddress:Port\n";
    case "tun-info":
      return "Prot LocalAddress:Port Scheduler Flags\n" +
        "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n";
    case "plain":
      return "Prot LocalAddress:Port Scheduler Flags\n" +
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n";
  }
}

/** print_service_entry() for the list formats (not -S). */
function serviceEntry(row: ServiceRow, opts: ListOptions, services: ServiceNameTable): string {
  // "%-4s %s" protocol + address, cut at 33 characters for IPv4.
  const svcName = `${padRight(row.protocol.toUpperCase(), 4)} ${
    addrPort(row.addr, row.port, row.protocol, opts.numeric, services)
  }`.slice(0, 33);
  let out: string;
  if (opts.format === "stats") {
    const s = row.stats;
    out = padRight(svcName, 33) +
      [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes].map((n) =>
        formatLargeNumber(n, opts.exact)
      ).join("");
  } else if (opts.format === "rate") {
    const r = row.rates;
    out = padRight(svcName, 33) +
      [r.cps, r.inpps, r.outpps, r.inbps, r.outbps].map((n) => formatLargeNumber(n, opts.exact))
        .join("");
  } else {
    // "%s %s" name + scheduler, then " (flags)", " persistent %u", " mask %s", " ops".
    out = `${svcName} ${row.schedulerName}`;
    if (schedulerFlagBits(row.schedulerFlags) !== 0) out += ` (${schedFlagsText(row)})`;
    if (row.persistTimeout > 0) {
      out += ` persistent ${row.persistTimeout}`;
      if (row.persistNetmask >>> 0 !== 0xffffffff) out += ` mask ${formatIPv4(row.persistNetmask)}`;
    }
    if (row.onePacket) out += " ops";
  }
  out += "\n";

  const dests = opts.sort ? glibcMergeSort(row.destinations, compareDests) : row.destinations;
  for (const d of dests) {
    const dname = addrPort(d.addr, d.port, row.protocol, opts.numeric, services).slice(0, 28);
    const lead = `  -> ${padRight(dname, 28)}`; // "  -> %-28s"
    switch (opts.format) {
      case "stats": {
        const s = d.stats;
        out += lead +
          [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes].map((n) =>
            formatLargeNumber(n, opts.exact)
          )
            .join("") +
          "\n";
        break;
      }
      case "rate": {
        // " %8llu %8llu %8llu" for cps/pps, print_largenum for the byte rates.
        const r = d.rates;
        out += lead + [r.cps, r.inpps, r.outpps].map((n) =>
          " " + padLeft(toBig(n).toString(), 8)
        ).join("") +
          formatLargeNumber(r.inbps, opts.exact) + formatLargeNumber(r.outbps, opts.exact) + "\n";
        break;
      }
      case "thresholds": // " %-10u %-10u %-10u %-10u\n"
        out += `${lead} ${
          [d.upperThreshold, d.lowerThreshold, d.activeConns, d.inactiveConns].map((n) =>
            padRight(String(n), 10)
          )
            .join(" ")
        }\n`;
        break;
      case "persistent-conn": // " %-9u %-11u %-10u %-10u\n"
        out += `${lead} ${padRight(String(d.weight), 9)} ${padRight(String(d.persistConns), 11)} ${
          padRight(String(d.activeConns), 10)
        } ${padRight(String(d.inactiveConns), 10)}\n`;
        break;
      case "tun-info": // " %-7s %-13s %-6d %-10u %-10u\n"
        out += `${lead} ${padRight(FORWARD_METHOD_LABELS[d.method], 7)} ${
          padRight(tunnelInfo(d), 13)
        } ${padRight(String(d.weight), 6)} ${padRight(String(d.activeConns), 10)} ${
          padRight(String(d.inactiveConns), 10)
        }\n`;
        break;
      case "plain": // " %-7s %-6d %-10u %-10u\n"
        out += `${lead} ${padRight(FORWARD_METHOD_LABELS[d.method], 7)} ${
          padRight(String(d.weight), 6)
        } ${padRight(String(d.activeConns), 10)} ${padRight(String(d.inactiveConns), 10)}\n`;
        break;
    }
  }
  return out;
}

// ipvsadm.c's tunflags[] (--tun-info) and tun_flags_opts[] (-S), by tun_flags.
const TUN_INFO_CHECKSUM: Readonly<Record<TunnelChecksum, string>> = {
  nocsum: "-c",
  csum: "+c",
  remcsum: "r+c",
};

/** fwd_tun_info(): "ipip", "gue:PORT:-c|+c|r+c", "gre:-c|+c"; "n/a" for other methods. */
function tunnelInfo(d: DestinationRow): string {
  if (d.method !== "tunnel") return "n/a";
  const t = d.tunnel;
  if (t.type === "gue") return `gue:${t.port}:${TUN_INFO_CHECKSUM[t.checksum]}`;
  return t.type === "gre" ? `gre:${TUN_INFO_CHECKSUM[t.checksum]}` : "ipip";
}

/** print_tunnel_rule(): " --tun-type T" [" --tun-port P"] [" --tun-nocsum|csum|remcsum"]. */
function tunnelRule(t: TunnelOptions): string {
  if (t.type === "gue") return ` --tun-type gue --tun-port ${t.port} --tun-${t.checksum}`;
  return t.type === "gre" ? ` --tun-type gre --tun-${t.checksum}` : " --tun-type ipip";
}

/** `ipvsadm -L [-n] [--stats|--rate|...]`: the whole table (list_all). */
export function formatList(snapshot: ListSnapshot, opts: ListOptions): string {
  const services = opts.services ?? systemServices();
  const rows = opts.sort ? glibcMergeSort(snapshot.services, compareServices) : snapshot.services;
  return `IP Virtual Server version ${IPVS_VERSION} (size=${snapshot.connTableSize})\n` +
    title(opts.format) +
    rows.map((row) => serviceEntry(row, opts, services)).join("");
}

/** `ipvsadm -L -t addr:port`: one service, without the version line (list_service). */
export function formatService(row: ServiceRow, opts: ListOptions): string {
  return title(opts.format) + serviceEntry(row, opts, opts.services ?? systemServices());
}

/** `ipvsadm -S [-n]`: the table as ipvsadm commands (print_service_entry with FMT_RULE). */
export function formatSave(
  snapshot: ListSnapshot,
  numeric: boolean,
  services: ServiceNameTable = systemServices(),
): string {
  let out = "";
  for (const row of glibcMergeSort(snapshot.services, compareServices)) {
    const svc = `${row.protocol === "tcp" ? "-t" : "-u"} ${
      addrPort(row.addr, row.port, row.protocol, numeric, services)
    }`;
    out += `-A ${svc} -s ${row.schedulerName}`;
    if (row.persistTimeout > 0) {
      out += ` -p ${row.persistTimeout}`;
      if (row.persistNetmask >>> 0 !== 0xffffffff) out += ` -M ${formatIPv4(row.persistNetmask)}`;
    }
    if (row.onePacket) out += " -o";
    if (schedulerFlagBits(row.schedulerFlags) !== 0) out += ` -b ${schedFlagsText(row)}`;
    out += "\n";
    for (const d of glibcMergeSort(row.destinations, compareDests)) {
      const dname = addrPort(d.addr, d.port, row.protocol, numeric, services);
      // "-a %s -r %s %s -w %d"; tunnels add their options (print_tunnel_rule).
      out += `-a ${svc} -r ${dname} ${FORWARD_METHOD_SWITCHES[d.method]} -w ${d.weight}`;
      out += d.method === "tunnel" ? `${tunnelRule(d.tunnel)}\n` : "\n";
    }
  }
  return out;
}

/** `ipvsadm -L -c [-n]` (list_conn/print_conn over /proc/net/ip_vs_conn). */
export function formatConnections(
  conns: readonly ConnectionSnapshot[],
  opts: ConnectionListOptions,
): string {
  const services = opts.services ?? systemServices();
  let out = "IPVS connection entries\n";
  // "pro expire %-11s %-18s %-18s %s\n" (+ " %-18s %-16s" pe columns with --persistent-conn)
  out += opts.persistentConn
    ? `pro expire ${padRight("state", 11)} ${padRight("source", 18)} ${padRight("virtual", 18)} ${
      padRight("destination", 18)
    } ${padRight("pe name", 16)} pe_data\n`
    : `pro expire ${padRight("state", 11)} ${padRight("source", 18)} ${
      padRight("virtual", 18)
    } destination\n`;
  for (const c of conns) {
    // The kernel prints whole seconds left; ipvsadm turns them into "%02d:%02d".
    const seconds = Math.max(0, Math.floor(c.expiresInMs / 1000));
    const expire = `${String(Math.floor(seconds / 60)).padStart(2, "0")}:${
      String(seconds % 60).padStart(2, "0")
    }`;
    const name = (addr: number, port: number) =>
      addrPort(addr, port, c.protocol, opts.numeric, services);
    // "%-3s %-6s %-11s %-18s %-18s %s\n"; the protocol is the kernel's "TCP"/"UDP".
    out += `${padRight(c.protocol.toUpperCase(), 3)} ${padRight(expire, 6)} ${
      padRight(c.state, 11)
    } ${padRight(name(c.caddr, c.cport), 18)} ${padRight(name(c.vaddr, c.vport), 18)} ${
      name(c.daddr, c.dport)
    }\n`;
  }
  return out;
}

/** `ipvsadm -L --timeout`: "Timeout (tcp tcpfin udp): %d %d %d\n". */
export function formatTimeouts(t: TimeoutsSnapshot): string {
  return `Timeout (tcp tcpfin udp): ${t.tcp} ${t.tcpfin} ${t.udp}\n`;
}
