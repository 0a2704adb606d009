// (d) lvslab: the userspace director with the TUN offload, the same service table as the
// other peers (HTTP rr over both real servers, iperf3 TCP and UDP to rs1). It can run with
// the worker's heap/GC stats on (LVSLAB_WORKER_STATS) and under node --cpu-prof.
import fs from "node:fs";
import path from "node:path";
import type { Peer, PeerContext } from "./peer.ts";
import { type Background, startIn } from "../procs.ts";
import { REPO_ROOT } from "../../lab/paths.ts";
import { HTTP_PORT, IPERF_PORT, RS1, RS2, VIP } from "../config.ts";
import { READY_LINES } from "../../director/ready-lines.ts";

/** The director's service table (pure, for the unit test). */
export function lvslabServices(): string {
  return `services:
  - protocol: tcp
    address: ${VIP}
    port: ${HTTP_PORT}
    scheduler: rr
    servers: [{ address: ${RS1}, port: ${HTTP_PORT} }, { address: ${RS2}, port: ${HTTP_PORT} }]
  - protocol: tcp
    address: ${VIP}
    port: ${IPERF_PORT}
    scheduler: rr
    servers: [{ address: ${RS1}, port: ${IPERF_PORT} }]
  - protocol: udp
    address: ${VIP}
    port: ${IPERF_PORT}
    scheduler: rr
    servers: [{ address: ${RS1}, port: ${IPERF_PORT} }]
`;
}

export interface LvslabOptions {
  /** Append the packet worker's heap/GC samples to this file. */
  statsFile?: string;
  /** Write V8 CPU profiles (one per thread) into this directory when the director exits. */
  profileDir?: string;
  label?: string;
  /** More lvslab-director options (e.g. --transmit=off, to compare). */
  directorArgs?: string[];
}

export function lvslabPeer(options: LvslabOptions = {}): Peer {
  let proc: Background | null = null;
  return {
    id: "lvslab",
    label: options.label ?? "lvslab",
    targets: { tcp: VIP, http: `http://${VIP}/`, udp: VIP },
    async setup(ctx: PeerContext) {
      const config = path.join(ctx.workDir, "lvslab-services.yaml");
      fs.writeFileSync(config, lvslabServices());
      const nodeFlags = options.profileDir
        ? ["--cpu-prof", "--cpu-prof-dir", options.profileDir]
        : [];
      const argv = [
        process.execPath,
        ...nodeFlags,
        "--import",
        "tsx",
        path.join(REPO_ROOT, "director", "main.ts"),
        "--config",
        config,
        "--private-dev",
        "eth1",
        ...(options.directorArgs ?? []),
      ];
      const env = { ...process.env };
      if (options.statsFile) env.LVSLAB_WORKER_STATS = options.statsFile;
      else delete env.LVSLAB_WORKER_STATS;
      proc = await startIn("director", "lvslab-director", argv, {
        logFile: path.join(ctx.workDir, `director${options.profileDir ? "-profiled" : ""}.log`),
        ready: { text: READY_LINES.director },
        cwd: REPO_ROOT,
        env,
      });
    },
    async teardown() {
      // SIGTERM: the director removes its routes and rules and closes the TUN device.
      await proc?.stop(10_000);
      proc = null;
    },
    directorPid: () => proc?.pid ?? null,
  };
}
