// Turns a bench result into the markdown the README's performance section is: the command
// that made it, one table with every peer side by side and lvslab's ratios to kernel
// nftables DNAT (b) and HAProxy (c), VS/DR's table against kernel forwarding and VS/NAT,
// VS/TUN's beside both with the decapsulator's cost, the engine-only numbers, the targets,
// and the profiles.
import type { BenchResult, Measurement, MetricSpec, PeerId } from "./types.ts";
import { METRICS } from "./metrics/specs.ts";

/** a / b, or null when either is missing or b is 0. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return null;
  return a / b;
}

/** A number with thousands separators and fixed decimals; "n/a" for null. */
export function formatNumber(value: number | null | undefined, decimals: number): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "n/a";
  return value.toLocaleString("en-US", {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });
}

export function formatRatio(value: number | null): string {
  return value === null ? "n/a" : `${value.toFixed(2)}×`;
}

/** A markdown table with columns padded to equal width (stable under deno fmt). */
export function markdownTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) =>
    Math.max(3, [...rows.map((r) => r[i] ?? ""), h].reduce((w, c) => Math.max(w, width(c)), 0))
  );
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c + " ".repeat(widths[i] - width(c))).join(" | ")} |`;
  return [line(headers), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)]
    .join("\n");
}

/**
 * Wraps a paragraph at `width` columns the way deno fmt does (greedy, at spaces; a code
 * span is never split), so the written markdown is already formatted.
 */
export function wrapParagraph(text: string, lineWidth = 100): string {
  const words = text.match(/(?:`[^`]*`|[^\s`])+/g) ?? [];
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    if (line !== "" && width(line) + 1 + width(word) > lineWidth) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines.join("\n");
}

/** A "- " list item wrapped like a paragraph, continuation lines indented under its text. */
export function wrapListItem(text: string, lineWidth = 100): string {
  return wrapParagraph(text, lineWidth - 2).split("\n").map((
    l,
    i,
  ) => (i === 0 ? `- ${l}` : `  ${l}`))
    .join("\n");
}

/** Display width: code points (×, →, µ are one column each). */
function width(s: string): number {
  return [...s].length;
}

export function valueOf(
  measurements: Measurement[],
  metric: string,
  peer: PeerId,
): number | null {
  return measurements.find((m) => m.metric === metric && m.peer === peer)?.value ?? null;
}

/** The side-by-side table: a row per metric, a column per peer, then lvslab's ratios. */
export function peerTable(result: BenchResult, metrics: MetricSpec[] = METRICS): string {
  const ids = result.peers.map((p) => p.id);
  const headers = ["metric", "unit", ...result.peers.map((p) => p.label)];
  const withRatios = ids.includes("lvslab");
  if (withRatios) headers.push("lvslab ÷ nft DNAT", "lvslab ÷ HAProxy");
  const rows: string[][] = [];
  for (const spec of metrics) {
    if (!result.measurements.some((m) => m.metric === spec.key)) continue;
    const row = [spec.label, spec.unit];
    for (const id of ids) {
      row.push(formatNumber(valueOf(result.measurements, spec.key, id), spec.decimals));
    }
    if (withRatios) {
      const lvs = valueOf(result.measurements, spec.key, "lvslab");
      row.push(formatRatio(ratio(lvs, valueOf(result.measurements, spec.key, "nft"))));
      row.push(formatRatio(ratio(lvs, valueOf(result.measurements, spec.key, "haproxy"))));
    }
    rows.push(row);
  }
  return markdownTable(headers, rows);
}

/** The rows of the VS/DR table: the article's claims are about serving (server → client). */
export const DR_METRICS = [
  "tcp1Down",
  "tcp4Down",
  "tcp1Up",
  "tcp4Up",
  "connRate",
  "cpuDirectorPerConn",
  "cpuDirectorPerGB",
];

/** How many times DR's server → client rate must reach kernel forwarding's (issue 14). */
export const DR_BULK_TARGET = 0.9;
/** How many times less director CPU per GB served DR must need than NAT (issue 14). */
export const DR_CPU_PER_GB_TARGET = 10;

/**
 * The rows of the VS/TUN table: DR's, then what decapsulation costs the real server (its CPU
 * per GB received over the uploads, and the decapsulator's part of it).
 */
export const TUN_METRICS = [...DR_METRICS, "cpuRealServerPerGB", "cpuDecapPerGB"];

function peerLabel(result: BenchResult, id: PeerId, fallback: string): string {
  return result.peers.find((p) => p.id === id)?.label ?? fallback;
}

/** How the method tables name a peer in their ratio headers ("lvslab NAT", not "lvslab"). */
function methodName(result: BenchResult, id: PeerId): string {
  const fallback: Record<PeerId, string> = {
    kernel: "kernel forwarding",
    nft: "nftables DNAT",
    haproxy: "HAProxy",
    lvslab: "lvslab NAT",
    "lvslab-packet": "lvslab NAT by packet sockets",
    "lvslab-dr": "lvslab DR",
    "lvslab-tun": "lvslab TUN",
  };
  return id === "lvslab" ? fallback.lvslab : peerLabel(result, id, fallback[id]);
}

/** A forwarding method's table against kernel forwarding and the other lvslab methods. */
interface MethodTable {
  /** The method's peer. */
  method: PeerId;
  /** The peers shown between kernel forwarding and the method. */
  beside: PeerId[];
  rows: string[];
  /** On the lower-is-better rows: each of these ÷ the method (above 1: the method better). */
  against: PeerId[];
}

/**
 * One method against kernel forwarding and lvslab's others: method ÷ kernel forwarding on the
 * rate rows, other ÷ method on the CPU rows (so all read "above 1: the method better").
 */
function methodTable(result: BenchResult, t: MethodTable, metrics: MetricSpec[]): string {
  const m = result.measurements;
  const shown: PeerId[] = ["kernel", ...t.beside, t.method];
  const headers = [
    "metric",
    "unit",
    ...shown.map((id) => peerLabel(result, id, methodName(result, id))),
    `${methodName(result, t.method)} ÷ ${methodName(result, "kernel")}`,
    ...t.against.map((id) => `${methodName(result, id)} ÷ ${methodName(result, t.method)}`),
  ];
  const rows: string[][] = [];
  for (const key of t.rows) {
    const spec = metrics.find((s) => s.key === key);
    if (!spec || !m.some((x) => x.metric === key)) continue;
    const value = (id: PeerId) => valueOf(m, key, id);
    rows.push([
      spec.label,
      spec.unit,
      ...shown.map((id) => formatNumber(value(id), spec.decimals)),
      spec.better === "higher" ? formatRatio(ratio(value(t.method), value("kernel"))) : "–",
      ...t.against.map((id) =>
        spec.better === "lower" ? formatRatio(ratio(value(id), value(t.method))) : "–"
      ),
    ]);
  }
  return markdownTable(headers, rows);
}

/**
 * VS/DR against kernel forwarding and lvslab's VS/NAT: lvslab DR ÷ kernel forwarding on the
 * rate rows, lvslab NAT ÷ lvslab DR on the CPU rows (so both read "above 1: DR better").
 */
export function drTable(result: BenchResult, metrics: MetricSpec[] = METRICS): string {
  return methodTable(result, {
    method: "lvslab-dr",
    beside: ["lvslab"],
    rows: DR_METRICS,
    against: ["lvslab"],
  }, metrics);
}

/**
 * VS/TUN beside NAT and DR: lvslab TUN ÷ kernel forwarding on the rate rows, NAT ÷ TUN and
 * DR ÷ TUN on the CPU rows (above 1: TUN better).
 */
export function tunTable(result: BenchResult, metrics: MetricSpec[] = METRICS): string {
  return methodTable(result, {
    method: "lvslab-tun",
    beside: ["lvslab", "lvslab-dr"],
    rows: TUN_METRICS,
    against: ["lvslab", "lvslab-dr"],
  }, metrics);
}

/**
 * What decapsulation costs the real server, in words: TUN's CPU per GB received and the
 * decapsulator's share of it, beside DR's (the same upload with no decapsulation). Null when
 * the run did not measure TUN's.
 */
export function decapSummary(result: BenchResult): string | null {
  const m = result.measurements;
  const tun = valueOf(m, "cpuRealServerPerGB", "lvslab-tun");
  const decap = valueOf(m, "cpuDecapPerGB", "lvslab-tun");
  if (tun === null || decap === null) return null;
  const dr = valueOf(m, "cpuRealServerPerGB", "lvslab-dr");
  const share = ratio(decap, tun);
  return `On the uploads, rs1 spent ${formatNumber(tun, 1)} ms of CPU per GB received through ` +
    `${methodName(result, "lvslab-tun")}, ${formatNumber(decap, 1)} ms of it in lvslab-decap` +
    (share === null ? "" : ` (${(share * 100).toFixed(0)}%)`) +
    (dr === null
      ? "."
      : `; through ${
        methodName(result, "lvslab-dr")
      }, where the packets arrive as they were sent, ${formatNumber(dr, 1)} ms` +
        `${ratio(tun, dr) === null ? "" : ` (TUN ÷ DR ${formatRatio(ratio(tun, dr))})`}.`);
}

export interface TargetCheck {
  target: string;
  observed: string;
  met: boolean | null;
}

/** The issue's targets against this run (null: not measured in this run). */
export function targetChecks(result: BenchResult): TargetCheck[] {
  const m = result.measurements;
  const checks: TargetCheck[] = [];
  const bulk = (key: string, label: string) => {
    const lvs = valueOf(m, key, "lvslab");
    const toNft = ratio(lvs, valueOf(m, key, "nft"));
    const toHap = ratio(lvs, valueOf(m, key, "haproxy"));
    checks.push({
      target: `${label}: lvslab ≥ 0.5 × nft DNAT`,
      observed: formatRatio(toNft),
      met: toNft === null ? null : toNft >= 0.5,
    });
    checks.push({
      target: `${label}: lvslab ≥ 1.5 × HAProxy`,
      observed: formatRatio(toHap),
      met: toHap === null ? null : toHap >= 1.5,
    });
  };
  // Both directions: the issue's "bulk TCP" covers each of them.
  bulk("tcp1Up", "bulk TCP 1 stream, client → server");
  bulk("tcp1Down", "bulk TCP 1 stream, server → client");
  bulk("tcp4Up", "bulk TCP 4 streams, client → server");
  bulk("tcp4Down", "bulk TCP 4 streams, server → client");
  const conn = ratio(valueOf(m, "connRate", "lvslab"), valueOf(m, "connRate", "haproxy"));
  checks.push({
    target: "new connections/s: lvslab ≥ HAProxy",
    observed: formatRatio(conn),
    met: conn === null ? null : conn >= 1,
  });
  drTargets(result, checks);
  const table = result.connTable;
  const mb = table ? (table.rssBytesPerConn * table.connections) / 1e6 : null;
  checks.push({
    target: "1,000,000 connections ≤ 200 MB",
    observed: mb === null
      ? "n/a"
      : `${mb.toFixed(0)} MB (${table!.rssBytesPerConn.toFixed(0)} B/conn)`,
    met: mb === null ? null : mb <= 200,
  });
  const gc = result.workerGc;
  checks.push({
    target: "no allocation per packet (packet worker, steady path)",
    observed: gc === null
      ? "n/a"
      : `${formatNumber(gc.allocatedBytesPerPacket, 1)} B/packet, ${
        gc.gcPerMillionPackets.toFixed(1)
      } GCs per 1M packets`,
    // No collection at all while the packets pass, and less heap growth than one object (16 B,
    // the smallest) per packet: what remains is the loop's once-a-second sampling and upkeep
    // and the compiler's bookkeeping. The packet path alone measures 0 (the engine's
    // steady-path-allocation test).
    met: gc === null || gc.allocatedBytesPerPacket === null
      ? null
      : gc.gcPerMillionPackets === 0 && gc.allocatedBytesPerPacket < 16,
  });
  return checks;
}

/** Issue 14's claims for VS/DR: serving at the kernel's rate for a tenth of NAT's CPU. */
function drTargets(result: BenchResult, checks: TargetCheck[]): void {
  const m = result.measurements;
  for (const [key, streams] of [["tcp1Down", "1 stream"], ["tcp4Down", "4 streams"]]) {
    const toKernel = ratio(valueOf(m, key, "lvslab-dr"), valueOf(m, key, "kernel"));
    checks.push({
      target:
        `DR server → client bulk, ${streams}: lvslab DR ≥ ${DR_BULK_TARGET} × kernel forwarding`,
      observed: formatRatio(toKernel),
      met: toKernel === null ? null : toKernel >= DR_BULK_TARGET,
    });
  }
  const nat = valueOf(m, "cpuDirectorPerGB", "lvslab");
  const dr = valueOf(m, "cpuDirectorPerGB", "lvslab-dr");
  const natToDr = ratio(nat, dr);
  checks.push({
    target: `DR director CPU per GB served ≤ NAT's ÷ ${DR_CPU_PER_GB_TARGET}`,
    observed: natToDr === null
      ? "n/a"
      : `${formatNumber(nat, 1)} ÷ ${formatNumber(dr, 1)} ms/GB = ${formatRatio(natToDr)}`,
    met: natToDr === null ? null : natToDr >= DR_CPU_PER_GB_TARGET,
  });
}

function roundsText(result: BenchResult): string {
  const rounds = result.rounds ?? 1;
  return rounds === 1
    ? ""
    : `median of ${rounds} rounds, each running every peer one after the other, `;
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function mark(met: boolean | null): string {
  return met === null ? "–" : met ? "yes" : "no";
}

/** The run's facts, the peers' table and what its rows mean. */
function peersSection(result: BenchResult, out: string[]): void {
  out.push(
    wrapParagraph(
      `\`${result.command}\` (${result.seconds} s per measurement, ${roundsText(result)}` +
        `${result.machine.cpus} cores, ` +
        `Linux ${result.machine.kernel}${
          result.machine.kernelBuild ? ` (${result.machine.kernelBuild})` : ""
        }, Node ${result.machine.node}, ${result.date}${
          result.commit ? `, commit ${result.commit}` : ""
        }${
          result.machine.writeSyncMicros !== undefined
            ? `; one 64-byte fs.writeSync took ${result.machine.writeSyncMicros.toFixed(2)} µs`
            : ""
        }):`,
    ),
    "",
    peerTable(result),
    "",
    wrapParagraph(
      "Ratios are lvslab's (VS/NAT's) value divided by the peer's: above 1 is better for " +
        "rates, below 1 is better for latency and CPU time. " +
        "Peers, all on the same netns lab in the same run: " +
        result.peers.map((p) => `**${p.label}**`).join(", ") +
        ". Bulk TCP and UDP go to one real server (iperf3's control and data connections must " +
        "meet one server process); HTTP is balanced over both nginx real servers. CPU per " +
        "datagram: machine = all busy CPU time of the machine (/proc/stat), softirq = its " +
        "softirq part, director process = utime+stime of the director's process " +
        "(/proc/<pid>/stat; lvslab's includes the kernel's forwarding of what it writes into " +
        "the TUN device, which runs in its write(2) calls). CPU per GB served: the director " +
        "process's CPU time over both download runs (iperf3 -R, 1 and 4 streams) divided by " +
        "the bytes the client received, GB = 10^9 bytes. Real server CPU per GB received: the " +
        "CPU time of rs1's iperf3 servers (and of VS/TUN's decapsulator there) over both " +
        "upload runs divided by the bytes the server received.",
    ),
  );
}

/** VS/DR's and VS/TUN's tables, when the run had those peers. */
function methodSections(result: BenchResult, out: string[]): void {
  if (result.peers.some((p) => p.id === "lvslab-dr")) {
    out.push(
      "",
      wrapParagraph(
        "VS/DR on the same hosts in the same run: the director sends the client's packets, " +
          "TTL − 1 only, in Ethernet frames to the real server's MAC; the real servers hold " +
          "the VIP on lo (arp_ignore=1, arp_announce=2) and answer the client themselves, " +
          "through the director host's kernel (their default route) but never through the " +
          "lvslab process, which sees only the client's direction. lvslab DR ÷ kernel " +
          "forwarding on the rate rows, lvslab NAT ÷ lvslab DR on the CPU rows: above 1 is " +
          "DR better in both.",
      ),
      "",
      drTable(result),
    );
  }
  if (result.peers.some((p) => p.id === "lvslab-tun")) {
    const summary = decapSummary(result);
    out.push(
      "",
      wrapParagraph(
        "VS/TUN on the same hosts in the same run: the director puts the client's packets " +
          "inside an outer IPv4 packet (IPIP unless the label names GUE or GRE) from its " +
          "address on the real servers' LAN, cutting super-packets into segments that fit " +
          "the tunnel; the real servers hold the VIP on lo and, this kernel having no " +
          "ipip/fou/ip_gre, run lvslab-decap, which takes the tunnel packets on a raw socket " +
          "and writes the inner ones into a TUN device; they answer the client themselves, " +
          "never through the lvslab process. The decapsulator's CPU time includes the kernel's " +
          "receive path (IP and TCP) of what it writes into its TUN device, which runs in its " +
          "write(2) calls; DR's real server does that work inside the director's send (a veth " +
          "delivers inside the sender's system call), where no real-server process is charged " +
          "for it. lvslab " +
          "TUN ÷ kernel forwarding on the rate rows, NAT ÷ TUN and DR ÷ TUN on the CPU rows: " +
          "above 1 is TUN better.",
      ),
      "",
      tunTable(result),
      ...(summary === null ? [] : ["", wrapParagraph(summary)]),
    );
  }
}

/** The engine alone and the packet worker's GC counters, when measured. */
function engineSections(result: BenchResult, out: string[]): void {
  if (result.connTable) {
    const t = result.connTable;
    out.push(
      "",
      `Engine alone (${formatNumber(t.connections, 0)} connections, no network):`,
      "",
      markdownTable(["what", "value"], [
        ["memory per connection (RSS, full table)", `${t.rssBytesPerConn.toFixed(0)} B`],
        ["of which heap and typed arrays", `${t.heapBytesPerConn.toFixed(0)} B`],
        ["of which preallocated when empty", `${t.emptyRssBytesPerConn.toFixed(0)} B`],
        ["lookup (findInbound, random existing key)", `${t.lookupNs.toFixed(0)} ns`],
        ["engine.process, packet of an existing connection", `${t.processNs.toFixed(0)} ns`],
        ["engine.process, SYN creating a connection", `${t.insertNs.toFixed(0)} ns`],
        ["GCs per 1M existing-connection packets", t.gcPerMillionPackets.toFixed(2)],
      ]),
    );
  }
  if (result.workerGc) {
    const g = result.workerGc;
    out.push(
      "",
      wrapParagraph(
        `Packet worker during the lvslab runs (LVSLAB_WORKER_STATS): ${
          formatNumber(g.packets, 0)
        } ` +
          `packets, ${g.gcCount} GCs (${g.gcMs.toFixed(1)} ms), ` +
          `${g.gcPerMillionPackets.toFixed(1)} GCs per 1M packets; heap growth between GCs ` +
          `${formatNumber(g.allocatedBytesPerPacket, 1)} bytes per packet.`,
      ),
    );
  }
}

/** The targets, the profiles and any warnings. */
function targetsAndProfiles(result: BenchResult, out: string[]): void {
  out.push(
    "",
    "Targets:",
    "",
    markdownTable(
      ["target", "observed", "met"],
      targetChecks(result).map((c) => [c.target, c.observed, mark(c.met)]),
    ),
  );
  for (const p of result.profiles) {
    out.push(
      "",
      wrapParagraph(
        `${capitalised(p.thread ?? "packet worker")} profile under ${p.load} (node --cpu-prof, ${
          p.sampledMs.toFixed(0)
        } ms sampled, self time):`,
      ),
      "",
      markdownTable(
        ["function", "self ms", "share"],
        p.top.map((e) => [e.name, e.selfMs.toFixed(0), `${(e.share * 100).toFixed(1)}%`]),
      ),
    );
  }
  if (result.warnings.length > 0) {
    out.push("", "Warnings:", "", ...result.warnings.map((w) => wrapListItem(w)));
  }
}

export function renderReport(result: BenchResult): string {
  const out: string[] = [];
  peersSection(result, out);
  methodSections(result, out);
  engineSections(result, out);
  targetsAndProfiles(result, out);
  return out.join("\n") + "\n";
}
