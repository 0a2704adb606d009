// Finds the packet worker's profile among the director's .cpuprofile files (node --cpu-prof
// writes one per thread) and summarises it over the load windows.
import fs from "node:fs";
import path from "node:path";
import { type CpuProfile, summariseProfile, type Window } from "../parse/cpu-profile.ts";
import type { ProfileResult } from "../types.ts";

/** The profile of the thread that ran the packet loop, or null. */
export function findWorkerProfile(dir: string): CpuProfile | null {
  if (!fs.existsSync(dir)) return null;
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"))) {
    const profile = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as CpuProfile;
    if (profile.nodes.some((n) => n.callFrame.url.endsWith("engine/packet-worker.ts"))) {
      return profile;
    }
  }
  return null;
}

export function workerProfile(dir: string, load: string, windows: Window[]): ProfileResult | null {
  const profile = findWorkerProfile(dir);
  if (profile === null) return null;
  return { load, ...summariseProfile(profile, windows, 15) };
}
