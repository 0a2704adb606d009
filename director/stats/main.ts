// `lvs-stats`: the counters of the lvslab director of this network namespace (format.ts).
import { callDirector } from "../control/socket.ts";
import { runAsProgram } from "../control/host-tool.ts";
import type { EngineSnapshot } from "../control/snapshot.ts";
import { countersOf, formatCounters } from "./format.ts";

const USAGE = `Usage: lvs-stats [--json]
  Totals as /proc/net/ip_vs_stats shows them (hexadecimal), connection entries, dropped
  packets by reason, refusals sent, half-open entries reclaimed, super-packets read,
  packets written by each thread, failed TUN writes.
  --json   the same as one JSON object (decimal)
`;

export async function runStats(argv: string[]): Promise<number> {
  const unknown = argv.find((a) => a !== "--json" && a !== "-h" && a !== "--help");
  if (unknown !== undefined) throw new Error(`unknown argument '${unknown}'; see lvs-stats -h`);
  if (argv.includes("-h") || argv.includes("--help")) {
    process.stdout.write(USAGE);
    return 0;
  }
  const s = await callDirector({ op: "snapshot" }) as EngineSnapshot;
  const counters = countersOf(s);
  process.stdout.write(
    argv.includes("--json") ? JSON.stringify(counters, null, 2) + "\n" : formatCounters(counters),
  );
  return 0;
}

runAsProgram(import.meta.url, "lvs-stats", runStats);
