// What the lvslab peers share: the service table (HTTP rr over both real servers, iperf3 TCP
// and UDP to rs1; every server on the service's port, so VS/NAT, VS/DR and VS/TUN offer the
// same table) and the start of the director process in the director host.
import fs from "node:fs";
import path from "node:path";
import type { PeerContext } from "./peer.ts";
import { type Background, startIn } from "../procs.ts";
import { REPO_ROOT } from "../../lab/paths.ts";
import { HTTP_PORT, IPERF_PORT, RS1, RS2, VIP } from "../config.ts";
import { READY_LINES } from "../../director/ready-lines.ts";
import type { TunnelType } from "../../director/service/tunnel-options.ts";

/**
 * How long a node program of the repo may take to start (tsx compiles it first): long enough
 * for a machine shared with other loads, where 15 s was seen to be too short.
 */
export const START_TIMEOUT_MS = 45_000;

/** How the director forwards to the real servers (the YAML's `method`). */
export type LvslabMethod = "masq" | "route" | "tunnel";

/** The UDP port of the real servers' GUE decapsulation (IPVS's examples use 6080). */
export const BENCH_GUE_PORT = 6080;

/** A tunnel server's options in the YAML (tunType, and tunPort for GUE). */
function tunnelFields(type: TunnelType): string {
  return `, tunType: ${type}${type === "gue" ? `, tunPort: ${BENCH_GUE_PORT}` : ""}`;
}

/** The director's service table (pure, for the unit test); `tunType` for method tunnel. */
export function lvslabServices(
  method: LvslabMethod = "masq",
  tunType: TunnelType = "ipip",
): string {
  const fields = method === "masq"
    ? ""
    : `, method: ${method}${method === "tunnel" ? tunnelFields(tunType) : ""}`;
  const server = (addr: string, port: number) => `{ address: ${addr}, port: ${port}${fields} }`;
  return `services:
  - protocol: tcp
    address: ${VIP}
    port: ${HTTP_PORT}
    scheduler: rr
    servers: [${server(RS1, HTTP_PORT)}, ${server(RS2, HTTP_PORT)}]
  - protocol: tcp
    address: ${VIP}
    port: ${IPERF_PORT}
    scheduler: rr
    servers: [${server(RS1, IPERF_PORT)}]
  - protocol: udp
    address: ${VIP}
    port: ${IPERF_PORT}
    scheduler: rr
    servers: [${server(RS1, IPERF_PORT)}]
`;
}

export interface DirectorStart {
  method: LvslabMethod;
  /** method tunnel: the encapsulation (default ipip). */
  tunType?: TunnelType;
  /** The whole config file (YAML); default: lvslabServices(method). */
  config?: string;
  /** The interface facing the real servers, whose replies are routed into the TUN device. */
  privateDev?: string;
  /** Append the packet worker's heap/GC samples to this file. */
  statsFile?: string;
  /** Write V8 CPU profiles (one per thread) into this directory when the director exits. */
  profileDir?: string;
  /** More lvslab-director options (e.g. --transmit=off). */
  directorArgs?: string[];
  /** Names the config and log files in the work directory. */
  fileTag: string;
  /** How long it may take to be ready (default: startIn's 15 s). */
  readyTimeoutMs?: number;
}

/** Starts lvslab-director in the director host with the bench's table; resolves once ready. */
export async function startLvslabDirector(
  ctx: PeerContext,
  options: DirectorStart,
): Promise<Background> {
  const config = path.join(ctx.workDir, `${options.fileTag}-services.yaml`);
  fs.writeFileSync(config, options.config ?? lvslabServices(options.method, options.tunType));
  const nodeFlags = options.profileDir ? ["--cpu-prof", "--cpu-prof-dir", options.profileDir] : [];
  const argv = [
    process.execPath,
    ...nodeFlags,
    "--import",
    "tsx",
    path.join(REPO_ROOT, "director", "main.ts"),
    "--config",
    config,
    ...(options.privateDev ? ["--private-dev", options.privateDev] : []),
    ...(options.directorArgs ?? []),
  ];
  const env = { ...process.env };
  if (options.statsFile) env.LVSLAB_WORKER_STATS = options.statsFile;
  else delete env.LVSLAB_WORKER_STATS;
  return await startIn("director", "lvslab-director", argv, {
    logFile: path.join(ctx.workDir, `${options.fileTag}.log`),
    ready: { text: READY_LINES.director },
    timeoutMs: options.readyTimeoutMs ?? START_TIMEOUT_MS,
    cwd: REPO_ROOT,
    env,
  });
}
