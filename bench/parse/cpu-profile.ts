// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function, optionally only
// for samples inside a time window (the load runs), so the idle wait of the packet loop
// does not drown what the loop does under load.

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  /** "functionName file:line" (file relative to the repo when inside it). */
  name: string;
  selfMs: number;
  /** Share of the window's sampled time, 0..1. */
  share: number;
}

export interface ProfileSummary {
  /** Sampled time inside the window(s). */
  sampledMs: number;
  top: ProfileEntry[];
}

/** A window in the profile's clock (microseconds, CLOCK_MONOTONIC like process.hrtime). */
export interface Window {
  startUs: number;
  endUs: number;
}

function frameName(frame: CpuProfile["nodes"][number]["callFrame"]): string {
  const fn = frame.functionName || "(anonymous)";
  if (!frame.url) return fn;
  const file = frame.url.replace(/^file:\/\//, "").replace(
    /^.*?\/(director|bench|lab|realservers|clients)\//,
    "$1/",
  );
  // tsx's transpiled modules report line 0 for everything: leave the line out then.
  return frame.lineNumber > 0 ? `${fn} ${file}:${frame.lineNumber + 1}` : `${fn} ${file}`;
}

/** Self time per function over the samples inside `windows` (all samples when empty). */
export function summariseProfile(
  profile: CpuProfile,
  windows: Window[] = [],
  topN = 15,
): ProfileSummary {
  const names = new Map<number, string>();
  for (const node of profile.nodes) names.set(node.id, frameName(node.callFrame));
  const self = new Map<string, number>();
  let t = profile.startTime;
  let sampled = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (windows.length > 0 && !windows.some((w) => t >= w.startUs && t <= w.endUs)) continue;
    const name = names.get(profile.samples[i]) ?? "(unknown)";
    self.set(name, (self.get(name) ?? 0) + delta);
    sampled += delta;
  }
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, topN)
    .map(([name, us]) => ({ name, selfMs: us / 1000, share: sampled > 0 ? us / sampled : 0 }));
  return { sampledMs: sampled / 1000, top };
}
