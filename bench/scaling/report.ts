// A scaling result as markdown: the run's facts, one table with a row per point (and the
// engine-alone memory rows), what was measured how, and the plots.
import { formatNumber, markdownTable, wrapParagraph } from "../report.ts";
import { formatCount } from "./plots.ts";
import type { ScalingPoint, ScalingResult } from "../types.ts";

const DASH = "–";

function dimensionLabel(point: ScalingPoint, scheduler: string): string {
  switch (point.dimension) {
    case "table":
      return "entries in the table";
    case "servers":
      return `real servers (1 service, ${scheduler})`;
    case "services":
      return "services (load to one)";
  }
}

function pointRow(p: ScalingPoint, scheduler: string): string[] {
  return [
    dimensionLabel(p, scheduler),
    formatNumber(p.at, 0),
    formatNumber(p.connRate, 0),
    formatNumber(p.latP50Ms, 2),
    formatNumber(p.latP99Ms, 2),
    formatNumber(p.cpuPerPacketNs, 0),
    formatNumber(p.cpuPerConnUs, 1),
    p.rssBytesPerEntry === undefined ? DASH : `${formatNumber(p.rssBytesPerEntry, 0)} (RSS)`,
  ];
}

/** The one table: every point, then the engine alone at each size. */
export function scalingTable(result: ScalingResult): string {
  const rows = result.points.map((p) => pointRow(p, result.scheduler));
  for (const m of result.memory) {
    rows.push([
      "entries, engine alone",
      formatNumber(m.connections, 0),
      DASH,
      DASH,
      DASH,
      `${formatNumber(m.processNs, 0)} (engine)`,
      DASH,
      `${formatNumber(m.heapBytesPerConn, 0)} (${formatNumber(m.rssBytesPerConn, 0)} RSS)`,
    ]);
  }
  return markdownTable([
    "what grows",
    "at",
    "new conn/s",
    "p50 ms",
    "p99 ms",
    "director CPU per packet, ns",
    "director CPU per connection, µs",
    "memory per entry, B",
  ], rows);
}

function runLine(result: ScalingResult): string {
  const m = result.machine;
  const rounds = result.rounds === 1 ? "one round" : `median of ${result.rounds} rounds`;
  return `\`${result.command}\` (${result.seconds} s per load, ${rounds}, ${m.cpus} cores, Linux ` +
    `${m.kernel}, Node ${m.node}, ${result.date}${
      result.commit ? `, commit ${result.commit}` : ""
    }` +
    `${
      m.writeSyncMicros !== undefined
        ? `; one 64-byte fs.writeSync took ${m.writeSyncMicros.toFixed(2)} µs`
        : ""
    }):`;
}

export function renderScalingReport(result: ScalingResult): string {
  const sizes = result.memory.map((m) => formatCount(m.connections)).join(" and ");
  const out = [
    wrapParagraph(runLine(result)),
    "",
    scalingTable(result),
    "",
    wrapParagraph(
      "Each point is a director of its own (VS/NAT, every service " + result.scheduler +
        `, table limit ${formatNumber(result.maxConnections, 0)}) with one thing changed ` +
        "from 2 real servers, 1 service and an empty table. The load is wrk from the client, " +
        `one request per new connection, 32 at a time, for ${result.seconds} s after a 1 s ` +
        "warm-up, to VIP:80 (nginx on both real server hosts; real servers beyond the first " +
        "two are more ports of the same two hosts). Table points: the director's fill request " +
        "(lvslab-director --allow-test-fill) first adds that many synthetic ESTABLISHED " +
        "entries, each a client address and port of its own in 198.51.100.128/26, spread " +
        "over the servers by the scheduler and timed by the timer wheel like real ones; their " +
        "memory is the director's RSS growth over the fill. Services points: the other " +
        "services are VIP ports 10001 and up, the load goes to VIP:80, the last one added. " +
        "Director CPU per packet: the director process's CPU time (/proc/<pid>/stat, all " +
        "threads, the kernel's forwarding in its write(2) calls included) over the load ÷ the " +
        "packets it counted both ways (lvs-stats). Engine alone: " + sizes + " connections " +
        "opened through engine.process() in a process of its own, no network; memory = heap " +
        "and typed arrays (RSS) growth ÷ entries, CPU per packet = engine.process() of a " +
        "packet of an existing connection.",
    ),
    "",
    wrapParagraph(`Plots, beside this file: ${result.plots.map((p) => `\`${p}\``).join(", ")}.`),
  ];
  if (result.warnings.length > 0) {
    out.push("", "Warnings:", "", ...result.warnings.map((w) => `- ${w}`));
  }
  return out.join("\n") + "\n";
}
