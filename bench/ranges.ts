// `npm run bench:ranges`: how lvslab's ratios to its peers vary between runs and hosts. Reads
// every committed result (bench/results/*.json) and prints, per metric, the lowest and highest
// ratio seen (lvslab NAT's to nft DNAT and HAProxy, DR's and TUN's to kernel forwarding), with
// the runs and kernels they came from. The README quotes one run's table and
// this range beside it: on VMs of one class the ratios move with the host's syscall cost.
import fs from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../lab/paths.ts";
import { METRICS } from "./metrics/specs.ts";
import { formatRatio, markdownTable, ratio, valueOf } from "./report.ts";
import type { BenchResult, PeerId } from "./types.ts";

/** The ratios shown, one column each: `of` ÷ `to`. */
const PAIRS: { of: PeerId; to: PeerId; label: string }[] = [
  { of: "lvslab", to: "nft", label: "lvslab ÷ nft DNAT" },
  { of: "lvslab", to: "haproxy", label: "lvslab ÷ HAProxy" },
  { of: "lvslab-dr", to: "kernel", label: "lvslab DR ÷ kernel forwarding" },
  { of: "lvslab-tun", to: "kernel", label: "lvslab TUN ÷ kernel forwarding" },
];

/** Every result file of a folder, oldest first. */
export function loadResults(dir: string): BenchResult[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as BenchResult);
}

/**
 * The range of each ratio for each metric over the results, as a markdown table; a column no
 * result has a value for (e.g. TUN's before it existed) is left out, and so is a row.
 */
export function rangeTable(results: BenchResult[]): string {
  const ratiosOf = (key: string, pair: (typeof PAIRS)[number]) =>
    results
      .map((r) =>
        ratio(valueOf(r.measurements, key, pair.of), valueOf(r.measurements, key, pair.to))
      )
      .filter((x): x is number => x !== null);
  const pairs = PAIRS.filter((pair) => METRICS.some((spec) => ratiosOf(spec.key, pair).length > 0));
  const rows: string[][] = [];
  for (const spec of METRICS) {
    const row = [spec.label];
    let any = false;
    for (const pair of pairs) {
      const ratios = ratiosOf(spec.key, pair);
      if (ratios.length > 0) any = true;
      row.push(
        ratios.length === 0
          ? "n/a"
          : `${formatRatio(Math.min(...ratios))} – ${formatRatio(Math.max(...ratios))}`,
      );
    }
    if (any) rows.push(row);
  }
  return markdownTable(["metric", ...pairs.map((p) => p.label)], rows);
}

/** One line per run: date, commit, kernel, syscall cost. */
export function runList(results: BenchResult[]): string[] {
  return results.map((r) => {
    const syscall = r.machine.writeSyncMicros;
    return `- ${r.date}: \`${r.command}\`, ${r.rounds ?? 1} round(s), Linux ${r.machine.kernel}` +
      (r.commit ? `, commit ${r.commit}` : "") +
      (syscall !== undefined ? `, fs.writeSync ${syscall.toFixed(2)} µs` : "");
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2] ?? path.join(REPO_ROOT, "bench", "results");
  const results = loadResults(dir).filter((r) => r.peers.some((p) => p.id === "lvslab"));
  const withPeers = results.filter((r) => r.peers.length > 1);
  process.stdout.write(
    `Ratios over ${withPeers.length} committed runs with peers (${dir}):\n\n` +
      rangeTable(withPeers) + "\n\n" + runList(withPeers).join("\n") + "\n",
  );
}
