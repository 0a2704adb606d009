// Network namespaces of one lab: list, create, find their processes, stop them, delete.
// Only names of the exact form `<lab>-<host>` are ever touched, so other labs sharing the
// machine (another prefix) are left alone.
import { ip, mustRun, netnsExec, runSync } from "./command.ts";

/** Names of all network namespaces on the machine. */
export function listNamespaces(): string[] {
  const out = ip(["-j", "netns", "list"]).trim();
  if (!out) return [];
  return (JSON.parse(out) as { name: string }[]).map((n) => n.name);
}

/** The namespaces that belong to lab `labName` (lab names have no dash, hosts neither). */
export function labNamespacesPresent(labName: string): string[] {
  const pattern = new RegExp(`^${labName}-[a-z0-9]+$`);
  return listNamespaces().filter((n) => pattern.test(n));
}

export function addNamespace(ns: string): void {
  ip(["netns", "add", ns]);
  ip(["link", "set", "lo", "up"], ns);
}

export function deleteNamespace(ns: string): void {
  ip(["netns", "delete", ns]);
}

/** Sets kernel settings inside the namespace (sysctl must run in it to see its net tree). */
export function setSysctls(ns: string, settings: Record<string, string>): void {
  const pairs = Object.entries(settings).map(([k, v]) => `${k}=${v}`);
  if (pairs.length > 0) mustRun(netnsExec(ns, ["sysctl", "-q", "-w", ...pairs]));
}

/** PIDs of the processes whose network namespace is `ns`. */
export function namespacePids(ns: string): number[] {
  const r = runSync(["ip", "netns", "pids", ns]);
  if (r.code !== 0) return [];
  return r.stdout.split(/\s+/).filter(Boolean).map(Number).filter((p) => p > 0);
}

/** The namespace a PID lives in, or null. */
export function namespaceOfPid(pid: number): string | null {
  const r = runSync(["ip", "netns", "identify", String(pid)]);
  return r.code === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

async function waitGone(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let left = pids.filter(isAlive);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    left = left.filter(isAlive);
  }
  return left;
}

/**
 * Stops every process inside the given namespaces: SIGTERM, then SIGKILL after `graceMs`.
 * Returns the PIDs that were found. Never signals this process or its parent.
 */
export async function stopNamespaceProcesses(
  namespaces: string[],
  graceMs = 3000,
): Promise<number[]> {
  const self = new Set([process.pid, process.ppid]);
  const pids = [...new Set(namespaces.flatMap(namespacePids))].filter((p) => !self.has(p));
  for (const pid of pids) signal(pid, "SIGTERM");
  const stubborn = await waitGone(pids, graceMs);
  for (const pid of stubborn) signal(pid, "SIGKILL");
  const left = await waitGone(stubborn, 2000);
  if (left.length > 0) throw new Error(`processes ${left.join(", ")} did not stop even on SIGKILL`);
  return pids;
}
