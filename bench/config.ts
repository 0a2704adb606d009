// The bench's fixed facts: its lab, the addresses it uses (the default topology's) and the
// ports of the services every peer offers, so all peers serve the same traffic.
import { defaultTopology, type Topology } from "../lab/topology.ts";

/** The bench's lab; LVSLAB_BENCH_LAB names another, so two benches can run at once. */
export const LAB = process.env.LVSLAB_BENCH_LAB || "lvsbench";
export const VIP = "203.0.113.5";
export const CLIENT = "198.51.100.2";
export const RS1 = "172.16.0.2";
export const RS2 = "172.16.0.3";
export const REAL_SERVERS = [RS1, RS2] as const;
/** iperf3 (TCP control + data, UDP data): one real server, since iperf3's control and
 * data connections must reach the same server process. */
export const IPERF_PORT = 5201;
/** HTTP (nginx on both real servers): balanced over both. */
export const HTTP_PORT = 80;

/** The default topology without the Node HTTP servers: nginx serves HTTP in the bench. */
export function benchTopology(): Topology {
  const topology = defaultTopology();
  for (const host of topology.hosts) delete host.http;
  return topology;
}
