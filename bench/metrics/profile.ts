// Finds a director thread's profile among the director's .cpuprofile files (node --cpu-prof
// writes one per thread; VS/TUN's rs1 decapsulator writes its own beside them) and summarises
// it over the load windows.
import fs from "node:fs";
import path from "node:path";
import { type CpuProfile, summariseProfile, type Window } from "../parse/cpu-profile.ts";
import type { ProfileResult } from "../types.ts";

/** The profiled threads, by the module each runs: the director's workers, the decapsulator's loop. */
export const PROFILED_THREADS = {
  "packet worker": "engine/packet-worker.ts",
  "transmit worker": "engine/transmit-worker.ts",
  "decapsulator (rs1)": "tunnel-decap/decap-loop.ts",
} as const;

/** The profile of the thread that ran `module` (a path suffix), or null. */
export function findWorkerProfile(dir: string, module: string): CpuProfile | null {
  if (!fs.existsSync(dir)) return null;
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"))) {
    const profile = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as CpuProfile;
    if (profile.nodes.some((n) => n.callFrame.url.endsWith(module))) {
      return profile;
    }
  }
  return null;
}

/** Each director thread's profile (each read once) summarised over each load's windows. */
export function workerProfiles(
  dir: string,
  loads: { load: string; windows: Window[] }[],
): ProfileResult[] {
  const threads = Object.entries(PROFILED_THREADS)
    .map(([thread, module]) => ({ thread, profile: findWorkerProfile(dir, module) }));
  return loads.flatMap(({ load, windows }) =>
    threads.flatMap(({ thread, profile }) =>
      profile === null ? [] : [{ thread, load, ...summariseProfile(profile, windows, 15) }]
    )
  );
}
