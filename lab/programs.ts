// What each host of a topology runs, for every backend: the director on the director host
// (when asked for), an HTTP server where the host has `http`, vsftpd where it has `ftp`, the
// VS/TUN decapsulation where it has `tunnel` (lvslab-decap or the kernel's device: the
// backends ask lab/decapsulation.ts which).
// Each kind says what it prints once it serves; the backends turn kinds into commands
// (lab/netns/lab.ts: node programs in namespaces; lab/compose/generate.ts: entry scripts).
//   A new kind of host program: one entry in PROGRAM_KINDS and one in each backend's table.
import type { Host, Topology } from "./topology.ts";
import { READY_LINES } from "../director/ready-lines.ts";

export type ProgramKind = "director" | "http" | "ftp" | "decap";

export const PROGRAM_KINDS: Record<ProgramKind, { ready: string; runs: (h: Host) => boolean }> = {
  director: { ready: READY_LINES.director, runs: (h) => h.role === "director" },
  http: { ready: READY_LINES.httpServer, runs: (h) => h.http !== undefined },
  ftp: { ready: READY_LINES.ftpServer, runs: (h) => h.ftp !== undefined },
  // realservers/kernel-tunnel.sh prints the same line where the kernel decapsulates.
  decap: { ready: READY_LINES.decapsulator, runs: (h) => h.tunnel !== undefined },
};

/** The program kinds `host` runs; the director only when `withDirector`. */
export function hostPrograms(host: Host, withDirector: boolean): ProgramKind[] {
  return (Object.keys(PROGRAM_KINDS) as ProgramKind[]).filter((kind) =>
    (kind !== "director" || withDirector) && PROGRAM_KINDS[kind].runs(host)
  );
}

/** The host that runs the director, or null when the topology has none. */
export function directorHost(topology: Topology): Host | null {
  return topology.hosts.find((h) => h.role === "director") ?? null;
}

/** Host name → ready lines its programs print (hosts that run nothing are left out). */
export function readyLines(topology: Topology, withDirector: boolean): Record<string, string[]> {
  const lines: Record<string, string[]> = {};
  for (const host of topology.hosts) {
    const kinds = hostPrograms(host, withDirector);
    if (kinds.length > 0) lines[host.name] = kinds.map((k) => PROGRAM_KINDS[k].ready);
  }
  return lines;
}
