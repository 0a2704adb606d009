// bench/metrics/: one module per measurement (throughput, conn-rate, udp-pps, cpu, conn-table,
// worker-gc, profile); this table is where a new row of the bench's report starts.
//
// The metrics the side-by-side table shows, in its order.
import type { MetricSpec } from "../types.ts";

/** The loads whose syscalls per packet the bench counts (lvslab peers): key → label. */
export const SYSCALL_LOADS: Record<string, string> = {
  tcp1Up: "bulk TCP, 1 stream, client → server",
  tcp1Down: "bulk TCP, 1 stream, server → client",
  tcp4Up: "bulk TCP, 4 streams, client → server",
  tcp4Down: "bulk TCP, 4 streams, server → client",
  connRate: "new HTTP connections",
  udpPps: "UDP 64-byte datagrams",
};

/** The metric of one load's syscalls per packet (syscallsPerPacketTcp1Up, ...). */
export function syscallsMetric(load: string): string {
  return `syscallsPerPacket${load[0]!.toUpperCase()}${load.slice(1)}`;
}

export const METRICS: MetricSpec[] = [
  {
    key: "tcp1Up",
    label: "bulk TCP, 1 stream, client → server",
    unit: "Gbit/s",
    better: "higher",
    decimals: 2,
  },
  {
    key: "tcp1Down",
    label: "bulk TCP, 1 stream, server → client",
    unit: "Gbit/s",
    better: "higher",
    decimals: 2,
  },
  {
    key: "tcp4Up",
    label: "bulk TCP, 4 streams, client → server",
    unit: "Gbit/s",
    better: "higher",
    decimals: 2,
  },
  {
    key: "tcp4Down",
    label: "bulk TCP, 4 streams, server → client",
    unit: "Gbit/s",
    better: "higher",
    decimals: 2,
  },
  {
    key: "connRate",
    label: "new HTTP connections per second",
    unit: "conn/s",
    better: "higher",
    decimals: 0,
  },
  {
    key: "latP50",
    label: "HTTP latency p50, new connection each",
    unit: "ms",
    better: "lower",
    decimals: 2,
  },
  {
    key: "latP99",
    label: "HTTP latency p99, new connection each",
    unit: "ms",
    better: "lower",
    decimals: 2,
  },
  {
    key: "udpPps",
    label: "UDP 64-byte datagrams delivered per second",
    unit: "pkt/s",
    better: "higher",
    decimals: 0,
  },
  {
    key: "cpuMachinePerPkt",
    label: "machine CPU per UDP datagram delivered",
    unit: "ns",
    better: "lower",
    decimals: 0,
  },
  {
    key: "cpuSoftirqPerPkt",
    label: "softirq CPU per UDP datagram delivered",
    unit: "ns",
    better: "lower",
    decimals: 0,
  },
  {
    key: "cpuDirectorPerPkt",
    label: "director process CPU per UDP datagram",
    unit: "ns",
    better: "lower",
    decimals: 0,
  },
  {
    key: "cpuDirectorPerConn",
    label: "director process CPU per HTTP connection",
    unit: "µs",
    better: "lower",
    decimals: 1,
  },
  {
    // Over both download runs (1 and 4 streams, iperf3 -R); GB = 10^9 bytes the client got.
    key: "cpuDirectorPerGB",
    label: "director process CPU per GB served, server → client",
    unit: "ms/GB",
    better: "lower",
    decimals: 1,
  },
  {
    // Over both upload runs (1 and 4 streams): rs1's iperf3 servers and, for VS/TUN, its
    // decapsulator, per 10^9 bytes the server received.
    key: "cpuRealServerPerGB",
    label: "real server CPU per GB received, client → server",
    unit: "ms/GB",
    better: "lower",
    decimals: 1,
  },
  {
    // VS/TUN only: lvslab-decap's part of the row above (null elsewhere: nothing to decapsulate).
    key: "cpuDecapPerGB",
    label: "of which the decapsulator (lvslab-decap)",
    unit: "ms/GB",
    better: "lower",
    decimals: 1,
  },
  // perf's raw_syscalls:sys_enter over the director's threads ÷ the packets it read from its
  // TUN device (a super-packet counts one), per load (bench/metrics/syscalls.ts).
  ...Object.entries(SYSCALL_LOADS).map(([load, label]): MetricSpec => ({
    key: syscallsMetric(load),
    label: `director syscalls per packet read, ${label}`,
    unit: "calls",
    better: "lower",
    decimals: 2,
  })),
];
