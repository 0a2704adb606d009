// Runs inside the director host (its control socket is abstract, so only reachable from its
// network namespace): every half second it reads the service table with counters and the
// connection table, and prints them as one JSON line when they changed. One long-lived
// process instead of an ipvsadm per poll (each costs half a second of CPU here).
import { callDirector } from "../director/control/socket.ts";
import type { EngineSnapshot } from "../director/control/snapshot.ts";
import type { ConnectionSnapshot } from "../director/ipvsadm/snapshot-types.ts";
import type { ConnectionView, ServiceView, TablesView } from "./event-types.ts";

export const FEED_INTERVAL_MS = 500;
/** Connections listed at most (a burst of thousands would make every line huge). */
const MAX_CONNECTIONS = 200;

function dotted(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** ipvsadm -L -c's expire column: mm:ss. */
function expires(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

export function tablesView(snapshot: EngineSnapshot, conns: ConnectionSnapshot[]): TablesView {
  const services: ServiceView[] = snapshot.services.map((s) => ({
    protocol: s.protocol.toUpperCase(),
    address: `${dotted(s.addr)}:${s.port}`,
    scheduler: s.schedulerName,
    conns: s.stats.conns,
    inpkts: s.stats.inpkts,
    outpkts: s.stats.outpkts,
    destinations: s.destinations.map((d) => ({
      address: `${dotted(d.addr)}:${d.port}`,
      method: d.method,
      weight: d.weight,
      active: d.activeConns,
      inactive: d.inactiveConns,
      conns: d.stats.conns,
      inpkts: d.stats.inpkts,
      outpkts: d.stats.outpkts,
    })),
  }));
  const connections: ConnectionView[] = conns.slice(0, MAX_CONNECTIONS).map((c) => ({
    protocol: c.protocol.toUpperCase(),
    client: `${dotted(c.caddr)}:${c.cport}`,
    virtual: `${dotted(c.vaddr)}:${c.vport}`,
    destination: `${dotted(c.daddr)}:${c.dport}`,
    state: c.state,
    expires: expires(c.expiresInMs),
  }));
  return { time: Date.now() / 1000, services, connections };
}

async function main(): Promise<void> {
  let last = "";
  let lastError = "";
  for (;;) {
    try {
      const snapshot = await callDirector({ op: "snapshot" }) as EngineSnapshot;
      const conns = await callDirector({ op: "connections" }) as ConnectionSnapshot[];
      const view = tablesView(snapshot, conns);
      const line = JSON.stringify({ services: view.services, connections: view.connections });
      if (line !== last) process.stdout.write(JSON.stringify(view) + "\n");
      last = line;
      lastError = "";
    } catch (err) {
      const message = (err as Error).message;
      if (message !== lastError) process.stdout.write(JSON.stringify({ error: message }) + "\n");
      lastError = message;
    }
    await new Promise((r) => setTimeout(r, FEED_INTERVAL_MS));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
