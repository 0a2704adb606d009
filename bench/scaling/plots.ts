// The plots of a scaling result (SVG, bench/plot/svg-chart.ts), under stable file names so
// README can show the latest run's: connection rate and latency against the table's size,
// director CPU per packet against real servers and against services, memory per entry.
import type { ChartSpec } from "../plot/svg-chart.ts";
import type { ScalingPoint, ScalingResult } from "../types.ts";

/** 100000 → "100k", 1000000 → "1M", 1000 → "1,000". */
export function formatCount(n: number): string {
  if (n >= 1e6 && n % 1e5 === 0) return `${n / 1e6}M`;
  if (n >= 1e4 && n % 1e3 === 0) return `${n / 1e3}k`;
  return n.toLocaleString("en-US");
}

function pointsOf(result: ScalingResult, dimension: ScalingPoint["dimension"]): ScalingPoint[] {
  return result.points.filter((p) => p.dimension === dimension);
}

/** Each plot: its file name (in the results' scaling/ folder) and its chart. */
export function scalingCharts(result: ScalingResult): { file: string; spec: ChartSpec }[] {
  const table = pointsOf(result, "table");
  const servers = pointsOf(result, "servers");
  const services = pointsOf(result, "services");
  const entries = "ESTABLISHED entries already in the table";
  const cpu = (points: ScalingPoint) => points.cpuPerPacketNs;
  return [
    {
      file: "table-conn-rate.svg",
      spec: {
        kind: "line",
        title: "New connections per second vs. table size",
        xLabel: entries,
        yLabel: "new connections per second (conn/s)",
        categories: table.map((p) => formatCount(p.at)),
        series: [{ name: "wrk, a connection per request", values: table.map((p) => p.connRate) }],
      },
    },
    {
      file: "table-latency.svg",
      spec: {
        kind: "line",
        title: "Latency of a request on a new connection vs. table size",
        xLabel: entries,
        yLabel: "latency (ms)",
        categories: table.map((p) => formatCount(p.at)),
        series: [
          { name: "p50", values: table.map((p) => p.latP50Ms) },
          { name: "p99", values: table.map((p) => p.latP99Ms) },
        ],
        decimals: 2,
      },
    },
    {
      file: "servers-cpu.svg",
      spec: {
        kind: "line",
        title: `Director CPU per packet vs. real servers (one service, ${result.scheduler})`,
        xLabel: "real servers of the service",
        yLabel: "director process CPU per packet (ns)",
        categories: servers.map((p) => formatCount(p.at)),
        series: [{ name: "new connections (wrk)", values: servers.map(cpu) }],
      },
    },
    {
      file: "services-cpu.svg",
      spec: {
        kind: "line",
        title: "Director CPU per packet vs. services on the VIP",
        xLabel: "services on the VIP (the load goes to one)",
        yLabel: "director process CPU per packet (ns)",
        categories: services.map((p) => formatCount(p.at)),
        series: [{ name: "new connections (wrk)", values: services.map(cpu) }],
      },
    },
    {
      file: "memory.svg",
      spec: {
        kind: "bar",
        title: "Connection-table memory per entry (engine alone, full table)",
        xLabel: "entries in the table",
        yLabel: "bytes per entry (B)",
        categories: result.memory.map((m) => formatCount(m.connections)),
        series: [
          { name: "heap + typed arrays", values: result.memory.map((m) => m.heapBytesPerConn) },
          { name: "resident (RSS)", values: result.memory.map((m) => m.rssBytesPerConn) },
        ],
      },
    },
  ];
}
