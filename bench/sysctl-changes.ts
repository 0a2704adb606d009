// Kernel settings a peer changes in lab hosts, each one's previous value remembered so its
// teardown puts back exactly what was there (the bench compares the hosts before and after).
import { execIn } from "../lab/netns/lab.ts";
import { LAB } from "./config.ts";

async function sysctl(host: string, args: string[]): Promise<string> {
  const r = await execIn(host, ["sysctl", ...args], { name: LAB });
  if (r.code !== 0) throw new Error(`sysctl ${args.join(" ")} in ${host}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

export class SysctlChanges {
  /** Host → key → the value before the first change. */
  private readonly saved = new Map<string, Map<string, string>>();

  /** Sets each key in a host, remembering its value from before this object touched it. */
  async set(host: string, settings: Record<string, string>): Promise<void> {
    const saved = this.saved.get(host) ?? new Map<string, string>();
    this.saved.set(host, saved);
    for (const [key, value] of Object.entries(settings)) {
      const before = await sysctl(host, ["-n", key]);
      if (!saved.has(key)) saved.set(key, before);
      if (before !== value) await sysctl(host, ["-q", "-w", `${key}=${value}`]);
    }
  }

  /** Puts every changed key back (safe to call twice, or when nothing was set). */
  async restore(): Promise<void> {
    for (const [host, saved] of this.saved) {
      const pairs = [...saved].map(([key, value]) => `${key}=${value}`);
      if (pairs.length > 0) await sysctl(host, ["-q", "-w", ...pairs]);
    }
    this.saved.clear();
  }
}
