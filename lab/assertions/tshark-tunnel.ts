// The VS/TUN director's tunnel packets as a decoder that is not ours sees them: tshark
// (Wireshark's IPv4, IPIP, GRE, UDP and TCP dissectors) reads the capture of the director's
// own network and each packet from the director to a real server is judged from the fields
// it gives: the outer header (director → the server, protocol 4 / 47 / UDP to the GUE port,
// header checksum good, TTL, TOS and DF from the inner packet), the tunnel header (GRE
// protocol 0x0800, no key, sequence or routing, version 0, the C bit as the table says and
// its checksum good; GUE version 0, protocol 4, the UDP checksum good where there is one),
// and the inner packet, the client's as the director received it (same capture) but for TTL,
// one less, with good IP and TCP checksums (or the client's own TCP checksum, left alone). Wireshark 4.0 has no GUE dissector:
// gue-dissector.lua reads GUE's 4-byte header and hands the rest to Wireshark's IPv4.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { REPO_ROOT } from "../paths.ts";
import { expectedOuterTos } from "../analysis/tun-compare.ts";
import { type AssertionResult, firstFew, plural, verdict } from "./result.ts";
import { expectationName, type TunnelExpectation } from "./tunnel.ts";

/** The fields asked of tshark, in this order (one column each). */
export const TSHARK_FIELDS = [
  "frame.number",
  "ip.src",
  "ip.dst",
  "ip.proto",
  "ip.ttl",
  "ip.id",
  "ip.len",
  "ip.dsfield",
  "ip.flags",
  "ip.frag_offset",
  "ip.checksum.status",
  "udp.dstport",
  "udp.checksum",
  "udp.checksum.status",
  "gue.version",
  "gue.control",
  "gue.proto",
  "gre.proto",
  "gre.flags.checksum",
  "gre.flags.key",
  "gre.flags.sequence_number",
  "gre.flags.routing",
  "gre.flags.version",
  "gre.checksum.status",
  "tcp.srcport",
  "tcp.dstport",
  "tcp.seq_raw",
  "tcp.ack_raw",
  "tcp.flags",
  "tcp.len",
  "tcp.window_size_value",
  "tcp.checksum",
  "tcp.checksum.status",
] as const;
type Field = (typeof TSHARK_FIELDS)[number];

/** Wireshark's checksum status values (epan/proto.h, PROTO_CHECKSUM_E_*). */
const CHECKSUM_GOOD = 1;
const CHECKSUM_NOT_PRESENT = 3;
const STATUS_NAMES = ["bad", "good", "unverified", "not present", "illegal"];
const IP_FLAG_DF = 0x02;

/** One packet: each field's values, outer layer first ("172.16.1.2,198.51.100.2"). */
export type TsharkRow = Record<Field, string[]>;

export const GUE_DISSECTOR = path.join(REPO_ROOT, "lab", "assertions", "gue-dissector.lua");

/** tshark's command line for a capture, the GUE ports decoded as GUE. */
export function tsharkArgv(pcap: string, guePorts: readonly number[]): string[] {
  return [
    "tshark",
    "-r",
    pcap,
    "-n",
    "-X",
    `lua_script:${GUE_DISSECTOR}`,
    ...guePorts.flatMap((p) => ["-d", `udp.port==${p},gue`]),
    // Wireshark verifies none of these by default.
    ...["ip", "udp", "tcp"].flatMap((p) => ["-o", `${p}.check_checksum:TRUE`]),
    // Headers only: no stream analysis, reassembly or application dissectors (five times
    // faster on the TUN scenario's 40 000 packets).
    ...["-o", "tcp.analyze_sequence_numbers:FALSE", "-o", "tcp.desegment_tcp_streams:FALSE"],
    ...["http", "ftp", "ftp-data"].flatMap((p) => ["--disable-protocol", p]),
    "-T",
    "fields",
    "-E",
    "separator=/t",
    "-E",
    "occurrence=a",
    "-E",
    "aggregator=,",
    ...TSHARK_FIELDS.flatMap((f) => ["-e", f]),
  ];
}

/** tshark's tab-separated lines as rows. */
export function parseTsharkFields(text: string): TsharkRow[] {
  const rows: TsharkRow[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const cols = line.split("\t");
    const row = {} as TsharkRow;
    TSHARK_FIELDS.forEach((f, i) => (row[f] = cols[i] ? cols[i]!.split(",") : []));
    rows.push(row);
  }
  return rows;
}

/** Runs tshark over a capture; its rows, or a sentence saying why not. */
export function runTshark(
  pcap: string,
  guePorts: readonly number[],
): { rows: TsharkRow[] } | { error: string } {
  const [cmd, ...args] = tsharkArgv(pcap, guePorts);
  const r = spawnSync(cmd!, args, { encoding: "utf8", maxBuffer: 1 << 30, timeout: 300_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT") {
    return {
      error: "tshark is not installed: install Debian's tshark (apt-get install tshark; " +
        "scripts/ensure-deps.sh does it)",
    };
  }
  if (r.error || r.status !== 0) {
    const why = r.error?.message ?? r.stderr.trim().split("\n").slice(-3).join(" ");
    return { error: `tshark could not read ${path.basename(pcap)}: ${why}` };
  }
  return { rows: parseTsharkFields(r.stdout) };
}

/** What the rows are judged against. */
export interface TsharkExpectation {
  director: string;
  /** Real server address → host name. */
  servers: ReadonlyMap<string, string>;
  vips: ReadonlySet<string>;
  /** The tunnel the table gives `host` for connections to `vport` (0: no port; null: none). */
  tunnelFor(host: string, vport: number): TunnelExpectation | null;
  /** Every host and tunnel the table gives: each must be seen at least once. */
  groups: readonly { host: string; want: TunnelExpectation }[];
}

const num = (v: string | undefined) => (v === undefined ? NaN : Number(v));

/** Inner TCP segment key: the same segment at the director's port and in the tunnel. */
function segmentKey(r: TsharkRow, layer: number): string {
  return [
    r["ip.src"][layer],
    r["tcp.srcport"][0],
    r["ip.dst"][layer],
    r["tcp.dstport"][0],
    r["tcp.seq_raw"][0],
    r["tcp.flags"][0],
    r["tcp.len"][0],
  ].join(" ");
}

/**
 * From the director to a real server, protocol 4, 47 or UDP (GUE, or a GUE packet to a wrong
 * port, which tshark then leaves undecoded): the director sends a server nothing else but
 * its TCP health checks.
 */
function isTunnelCandidate(r: TsharkRow, e: TsharkExpectation): boolean {
  const proto = num(r["ip.proto"][0]);
  if (r["ip.src"][0] !== e.director || !e.servers.has(r["ip.dst"][0] ?? "")) return false;
  return proto === 4 || proto === 47 || proto === 17;
}

function statusName(v: string | undefined): string {
  return v === undefined ? "absent" : STATUS_NAMES[Number(v)] ?? v;
}

/** What is wrong with the tunnel header for `want`, or null. */
function tunnelHeaderFault(r: TsharkRow, want: TunnelExpectation): string | null {
  const proto = num(r["ip.proto"][0]);
  const wantProto = want.type === "ipip" ? 4 : want.type === "gre" ? 47 : 17;
  if (proto !== wantProto) {
    return `outer protocol ${proto}, not ${wantProto} (${expectationName(want)})`;
  }
  if (want.type === "gre") {
    if (r["gre.proto"][0] !== "0x0800") return `gre.proto ${r["gre.proto"][0]}, not 0x0800`;
    for (const f of ["gre.flags.key", "gre.flags.sequence_number", "gre.flags.routing"] as const) {
      if (r[f][0] !== "0") return `${f} is set`;
    }
    if (num(r["gre.flags.version"][0]) !== 0) {
      return `gre.flags.version ${r["gre.flags.version"][0]}`;
    }
    const c = r["gre.flags.checksum"][0] === "1";
    if (want.checksum !== undefined && c !== want.checksum) {
      return `gre.flags.checksum ${c ? 1 : 0}, the table says ${want.checksum ? "csum" : "nocsum"}`;
    }
    if (c && num(r["gre.checksum.status"][0]) !== CHECKSUM_GOOD) {
      return `gre.checksum.status ${statusName(r["gre.checksum.status"][0])}`;
    }
  } else if (want.type === "gue") {
    const port = num(r["udp.dstport"][0]);
    if (want.port !== undefined && port !== want.port) {
      return `udp.dstport ${port}, not the --tun-port ${want.port}`;
    }
    if (r["gue.version"][0] !== "0") return `gue.version ${r["gue.version"][0] ?? "absent"}`;
    if (r["gue.control"][0] !== "0") return "gue.control is set";
    if (r["gue.proto"][0] !== "4") return `gue.proto ${r["gue.proto"][0]}, not 4`;
    const present = num(r["udp.checksum"][0]) !== 0;
    if (want.checksum !== undefined && present !== want.checksum) {
      return `udp.checksum ${r["udp.checksum"][0]}: the table says ` +
        (want.checksum ? "a checksum" : "none");
    }
    const status = num(r["udp.checksum.status"][0]);
    if (present && status !== CHECKSUM_GOOD) {
      return `udp.checksum.status ${statusName(r["udp.checksum.status"][0])}`;
    }
    if (!present && status !== CHECKSUM_NOT_PRESENT && status !== CHECKSUM_GOOD) {
      return `udp.checksum.status ${statusName(r["udp.checksum.status"][0])}`;
    }
  }
  return null;
}

/** Outer against inner, and the inner packet's own checksums. */
function layersFault(r: TsharkRow): string | null {
  if (r["ip.src"].length < 2) return "tshark found no IPv4 packet inside";
  const status = r["ip.checksum.status"];
  if (num(status[0]) !== CHECKSUM_GOOD) return `outer ip.checksum.status ${statusName(status[0])}`;
  if (num(status[1]) !== CHECKSUM_GOOD) return `inner ip.checksum.status ${statusName(status[1])}`;
  if (num(r["ip.frag_offset"][0]) !== 0) return "the outer packet is a fragment";
  const [outerTtl, innerTtl] = r["ip.ttl"].map(Number);
  if (outerTtl !== innerTtl) return `outer ip.ttl ${outerTtl}, inner ${innerTtl}`;
  const [outerTos, innerTos] = r["ip.dsfield"].map((v) => parseInt(v, 16));
  if (outerTos !== expectedOuterTos(innerTos!)) {
    return `outer ip.dsfield ${r["ip.dsfield"][0]}, inner ${r["ip.dsfield"][1]}`;
  }
  const [outerDf, innerDf] = r["ip.flags"].map((v) => (parseInt(v, 16) & IP_FLAG_DF) !== 0);
  if (outerDf !== innerDf) return `outer DF ${outerDf ? "set" : "clear"}, inner not`;
  return null;
}

/**
 * The inner TCP checksum: good, or the client's own as it reached the director (the director
 * leaves it alone; a client may send 0xffff where Wireshark, after RFC 1624, wants 0x0000).
 * "kept" when it is not good but the client's; a sentence when the director broke it.
 */
function tcpChecksumFault(r: TsharkRow, twins: readonly TsharkRow[] | undefined): string | null {
  const status = r["tcp.checksum.status"][0];
  if (status === undefined || num(status) === CHECKSUM_GOOD) return null;
  const check = r["tcp.checksum"][0];
  if (twins?.some((a) => a["tcp.checksum"][0] === check)) return "kept";
  return `inner tcp.checksum ${check} status ${statusName(status)}, not the client's`;
}

/** The client's segment as it reached the director against the one in the tunnel. */
function innerFault(arrived: readonly TsharkRow[], r: TsharkRow): string | null {
  const ttl = num(r["ip.ttl"][1]);
  const same = arrived.find((a) => a["ip.id"][0] === r["ip.id"][1]);
  if (!same) return `no segment with its ip.id ${r["ip.id"][1]} reached the director`;
  if (num(same["ip.ttl"][0]) - 1 !== ttl) {
    return `inner ip.ttl ${ttl}, the client's ${same["ip.ttl"][0]} at the director`;
  }
  const pairs: [Field, number][] = [
    ["ip.len", 1],
    ["ip.dsfield", 1],
    ["ip.flags", 1],
    ["tcp.ack_raw", 0],
    ["tcp.window_size_value", 0],
  ];
  for (const [f, layer] of pairs) {
    if (same[f][0] !== r[f][layer]) return `inner ${f} ${r[f][layer]}, the client's ${same[f][0]}`;
  }
  return null;
}

/**
 * PASS when tshark decodes every packet from the director to a real server as the tunnel the
 * table gives that server for the connection's port, around the client's packet.
 */
export function judgeTsharkTunnels(
  rows: readonly TsharkRow[],
  e: TsharkExpectation,
): AssertionResult {
  const name = "tshark's dissectors: every tunnel packet from the director";
  const arrived = new Map<string, TsharkRow[]>();
  for (const r of rows) {
    if (r["ip.src"].length === 1 && e.vips.has(r["ip.dst"][0] ?? "") && r["tcp.seq_raw"].length) {
      const k = segmentKey(r, 0);
      arrived.set(k, [...(arrived.get(k) ?? []), r]);
    }
  }
  const faults: string[] = [];
  const seen = new Map<string, number>();
  let tunnels = 0;
  let compared = 0;
  let kept = 0;
  for (const r of rows) {
    if (!isTunnelCandidate(r, e)) continue;
    tunnels++;
    const host = e.servers.get(r["ip.dst"][0]!)!;
    const vport = num(r["tcp.dstport"][0]);
    const where = `frame ${r["frame.number"][0]} to ${host}` +
      (Number.isNaN(vport) ? "" : ` (inner port ${vport})`);
    // Without a port (an ICMP message inside): the tunnel of the ports no service names.
    const want = e.tunnelFor(host, Number.isNaN(vport) ? 0 : vport);
    if (!want) {
      faults.push(`${where}: the table gives no tunnel for it`);
      continue;
    }
    const fault = tunnelHeaderFault(r, want) ?? layersFault(r);
    if (fault) {
      faults.push(`${where}: ${fault}`);
      continue;
    }
    if (!e.vips.has(r["ip.dst"][1]!)) faults.push(`${where}: inner ip.dst ${r["ip.dst"][1]}`);
    const k = `${host} ${expectationName(want)}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
    // A segment the director cut from a larger one has no twin of its length: left aside.
    const twins = arrived.get(segmentKey(r, 1));
    const tcp = tcpChecksumFault(r, twins);
    if (tcp === "kept") kept++;
    else if (tcp) faults.push(`${where}: ${tcp}`);
    if (twins) {
      compared++;
      const f = innerFault(twins, r);
      if (f) faults.push(`${where}: ${f}`);
    }
  }
  for (const g of e.groups) {
    const k = `${g.host} ${expectationName(g.want)}`;
    if (!seen.has(k)) faults.push(`no ${expectationName(g.want)} packet to ${g.host} was decoded`);
  }
  const counts = [...seen].sort().map(([k, n]) => `${k}: ${plural(n, "packet")}`);
  const data = { packets: rows.length, tunnels, compared, kept, faults: faults.length };
  const keptText = kept
    ? ` (${plural(kept, "inner TCP checksum")} tshark calls bad the client's own, kept)`
    : "";
  if (faults.length === 0) {
    return verdict(
      name,
      true,
      `tshark decoded all ${plural(tunnels, "tunnel packet")} from the director as the tunnel ` +
        "the table gives each server for its port (outer header, tunnel header and checksums " +
        `good), ${compared} of them matched to the client's segment: the same but for TTL, ` +
        `one less${keptText}`,
      counts,
      data,
    );
  }
  return verdict(
    name,
    false,
    `${plural(faults.length, "problem")} in ${plural(tunnels, "tunnel packet")} as tshark ` +
      `decodes them (first: ${faults[0]})`,
    [...firstFew(faults), ...counts],
    data,
  );
}
