// The bench's fixed facts: its lab, the addresses it uses (the default topology's) and the
// ports of the services every peer offers, so all peers serve the same traffic.
import { checkLabName, defaultTopology, type Topology } from "../lab/topology.ts";

/**
 * The bench's lab; `--lab` (or LVSLAB_BENCH_LAB) picks another name, so a run can sit beside
 * another's lab.
 */
export let LAB = process.env.LVSLAB_BENCH_LAB || "lvsbench";

/** Makes every part of the bench use lab `name` (checked as a lab name). */
export function useLab(name: string): void {
  checkLabName(name);
  LAB = name;
}
export const VIP = "203.0.113.5";
export const CLIENT = "198.51.100.2";
export const RS1 = "172.16.0.2";
export const RS2 = "172.16.0.3";
export const REAL_SERVERS = [RS1, RS2] as const;
/** The director host's address on the real servers' LAN: VS/TUN's outer source. */
export const DIRECTOR_PRIVATE = "172.16.0.254";
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
