// Does the split of connections over real servers follow their weights? Pearson's
// chi-square goodness-of-fit test at a stated significance level, and/or an explicit
// tolerance on each server's share.
import type { Connection } from "../analysis/connections.ts";
import { chiSquareTest } from "./chi-square.ts";
import { type AssertionResult, verdict } from "./result.ts";

export const DEFAULT_ALPHA = 0.001;

export interface DistributionExpectation {
  /** Counts per real server ("addr:port" or any name used in `weights`). */
  counts: Record<string, number>;
  /** Weight per real server, same keys as `counts`. */
  weights: Record<string, number>;
  /** What was counted, for the sentence, e.g. "connections to 203.0.113.5:80 (private capture)". */
  what?: string;
  /** Significance level of the chi-square test (default 0.001); null: no test. */
  alpha?: number | null;
  /** Largest allowed |observed share − expected share| per server (0..1); absent: none. */
  tolerance?: number;
  name?: string;
}

function formatP(p: number): string {
  return p >= 0.001 ? p.toFixed(3) : p.toExponential(1);
}

function ratio(weights: number[]): string {
  return weights.map((w) => String(w)).join(":");
}

/** PASS when the counts are consistent with the weights; see DistributionExpectation. */
export function assertDistribution(e: DistributionExpectation): AssertionResult {
  const what = e.what ?? "connections";
  const name = e.name ?? `distribution of ${what}`;
  const alpha = e.alpha === undefined ? DEFAULT_ALPHA : e.alpha;
  const servers = Object.keys(e.weights);
  const total = Object.values(e.counts).reduce((s, n) => s + n, 0);
  const weightSum = servers.reduce((s, k) => s + e.weights[k], 0);
  const problems: string[] = [];
  const strangers = Object.keys(e.counts).filter((k) => !(k in e.weights) && e.counts[k] > 0);
  for (const k of strangers) {
    problems.push(`${e.counts[k]} went to ${k}, which is not a real server of the service`);
  }
  if (total === 0 || weightSum <= 0) {
    return verdict(
      name,
      false,
      total === 0
        ? `no ${what} were counted, so the split over the real servers cannot be checked`
        : `every real server has weight 0, so no ${what} should exist, yet ${total} did`,
      [],
      { counts: e.counts, weights: e.weights, total },
    );
  }
  const rows = servers.map((k) => {
    const observed = e.counts[k] ?? 0;
    const expected = (total * e.weights[k]) / weightSum;
    return { server: k, weight: e.weights[k], observed, expected };
  });
  const details = rows.map((r) =>
    `${r.server} weight ${r.weight}: ${r.observed} (${(100 * r.observed / total).toFixed(1)}%), ` +
    `expected ${r.expected.toFixed(1)} (${(100 * r.expected / total).toFixed(1)}%)`
  );
  for (const r of rows) {
    if (r.weight === 0 && r.observed > 0) {
      problems.push(`${r.observed} went to ${r.server}, which has weight 0`);
    }
  }
  const data: Record<string, unknown> = { total, rows, alpha, tolerance: e.tolerance ?? null };
  const checks: string[] = [];
  const tested = rows.filter((r) => r.weight > 0);
  if (alpha !== null && tested.length >= 2) {
    const t = chiSquareTest(tested.map((r) => r.observed), tested.map((r) => r.weight));
    Object.assign(data, { chiSquare: t.statistic, df: t.df, pValue: t.pValue });
    const ok = t.pValue >= alpha;
    checks.push(
      `chi-square ${t.statistic.toFixed(2)} with ${t.df} degree${t.df === 1 ? "" : "s"} of ` +
        `freedom, p = ${formatP(t.pValue)} ${ok ? "≥" : "<"} ${alpha}`,
    );
    if (!ok) problems.push("the split is too far from the weights to be chance");
    if (tested.some((r) => r.expected < 5)) {
      details.push("note: some expected counts are below 5; the chi-square test is then rough");
    }
  }
  if (e.tolerance !== undefined) {
    const worst = rows.reduce((m, r) => Math.max(m, Math.abs(r.observed - r.expected) / total), 0);
    data.worstShareDifference = worst;
    const ok = worst <= e.tolerance;
    checks.push(
      `largest share difference ${(100 * worst).toFixed(1)}% ${ok ? "≤" : ">"} ` +
        `tolerance ${(100 * e.tolerance).toFixed(1)}%`,
    );
    if (!ok) problems.push("a server's share is outside the tolerance");
  }
  const split = rows.map((r) => `${r.server} got ${r.observed} (expected ${r.expected.toFixed(1)})`)
    .join(", ");
  const weights = ratio(rows.map((r) => r.weight));
  const how = checks.length > 0 ? `; ${checks.join("; ")}` : "";
  if (problems.length === 0) {
    return verdict(
      name,
      true,
      `${total} ${what} follow the weights ${weights}: ${split}${how}`,
      details,
      data,
    );
  }
  return verdict(
    name,
    false,
    `${total} ${what} do not follow the weights ${weights}: ${
      problems.join("; ")
    } — ${split}${how}`,
    details,
    data,
  );
}

/**
 * Counts from the HTTP client's attribution (LoadSummary.byServerAddress, keys like
 * "rs2 172.16.0.3:8000"): keyed by the "addr:port" at the end of each key, or with
 * `by: "name"` by the server's name at its start (DR real servers all answer on VIP:port).
 */
export function countsFromAttribution(
  byServerAddress: Record<string, number>,
  by: "address" | "name" = "address",
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [key, n] of Object.entries(byServerAddress)) {
    const words = key.trim().split(/\s+/);
    const where = by === "name" ? words[0] : words.pop()!;
    counts[where] = (counts[where] ?? 0) + n;
  }
  return counts;
}

/**
 * Connections per real server ("addr:port") from a private-network capture: TCP
 * connections whose client SYN was captured, UDP flows by their first datagram. With
 * `servers`, only connections to those servers are counted (other services share the
 * network); misrouted ones are the rewrite assertions' business.
 */
export function countConnectionsByServer(
  connections: readonly Connection[],
  options: { protocol: "tcp" | "udp"; servers?: readonly string[] },
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const k of options.servers ?? []) counts[k] = 0;
  for (const c of connections) {
    if (c.protocol !== options.protocol) continue;
    if (c.protocol === "tcp" && c.clientIsn === null) continue;
    const k = `${c.server.addr}:${c.server.port}`;
    if (options.servers && !options.servers.includes(k)) continue;
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}
