// What the assertion kinds judged from the clients' reports share (assertions/): tallies of
// a step's result by real server and by outcome, and bounds (exactly, atLeast, atMost) on
// them. Each verdict is one PASS/FAIL sentence.
import { type AssertionResult, verdict } from "../assertions/result.ts";
import type { StepOutput } from "./steps/index.ts";

/** Every assertion, here or in lab/assertions, gives this shape. */
export type CheckResult = AssertionResult;

export function result(
  name: string,
  passed: boolean,
  sentence: string,
  details: string[] = [],
  data: Record<string, unknown> = {},
): CheckResult {
  return verdict(name, passed, sentence, details, data);
}

export type Bounds = {
  exactly?: Record<string, number>;
  atLeast?: Record<string, number>;
  atMost?: Record<string, number>;
};

/** servers, results and held need at least one bound. */
export function requireBounds(spec: Bounds, where: string, problems: string[]): void {
  if (!spec.exactly && !spec.atLeast && !spec.atMost) {
    problems.push(`${where}: give at least one of exactly, atLeast, atMost`);
  }
}

/** Counts as "name address:port" → n, so a key can be a name ("rs1") or an address. */
export type Tally = Record<string, number>;

/** How many of `tally` a key names: "rs1" matches names, "172.16.0.2:80" addresses. */
export function countFor(tally: Tally, key: string): number {
  let n = 0;
  for (const [k, v] of Object.entries(tally)) {
    if (k === key || k.split(" ").includes(key)) n += v;
  }
  return n;
}

/** Checks exactly/atLeast/atMost against a tally; returns the broken ones as sentences. */
export function checkBounds(tally: Tally, bounds: Bounds): { ok: boolean; parts: string[] } {
  const parts: string[] = [];
  let ok = true;
  const check = (key: string, cmp: "=" | ">=" | "<=", want: number) => {
    const got = countFor(tally, key);
    const good = cmp === "=" ? got === want : cmp === ">=" ? got >= want : got <= want;
    const words = cmp === "=" ? "exactly" : cmp === ">=" ? "at least" : "at most";
    parts.push(`${key} ${got}${good ? "" : ` (expected ${words} ${want})`}`);
    if (!good) ok = false;
  };
  for (const [k, v] of Object.entries(bounds.exactly ?? {})) check(k, "=", v);
  for (const [k, v] of Object.entries(bounds.atLeast ?? {})) check(k, ">=", v);
  for (const [k, v] of Object.entries(bounds.atMost ?? {})) check(k, "<=", v);
  if (bounds.exactly) {
    // "exactly" also means nothing went anywhere else.
    const listed = Object.keys(bounds.exactly);
    const others = Object.entries(tally).filter(([k, v]) =>
      v > 0 && !listed.some((key) => k === key || k.split(" ").includes(key))
    );
    for (const [k, v] of others) {
      parts.push(`${k} ${v} (expected none)`);
      ok = false;
    }
  }
  return { ok, parts };
}

/** Which server answered, per "name address:port", for a step's output. */
export function serverTally(output: StepOutput): Tally {
  switch (output.kind) {
    case "http":
      return { ...output.data.byServerAddress };
    case "udp":
      return { ...output.data.byServerAddress };
    case "hold": {
      const t: Tally = {};
      for (const c of output.data.connections) {
        if (!c.server) continue;
        const k = `${c.server} ${c.serverAddress ?? "?"}`;
        t[k] = (t[k] ?? 0) + 1;
      }
      return t;
    }
    default:
      return {};
  }
}

/** How connections or datagrams ended, per outcome, for a step's output. */
export function outcomeTally(output: StepOutput): Tally {
  switch (output.kind) {
    case "http":
      return { ...output.data.outcomes };
    case "udp": {
      const { echoed, refused, timedOut, corrupted } = output.data;
      return { echoed, refused, timedOut, corrupted };
    }
    case "probe":
      return { ...output.data.outcomes };
    case "ftp":
      return { ...output.data.outcomes };
    default:
      return {};
  }
}

export function missing(name: string, stepId: string): CheckResult {
  return result(name, false, `${name}: step '${stepId}' left no result (it did not run or failed)`);
}

export function boundsCheck(
  name: string,
  what: string,
  tally: Tally,
  bounds: Bounds,
): CheckResult {
  const { ok, parts } = checkBounds(tally, bounds);
  return result(name, ok, `${what}: ${parts.join(", ")}`, [`observed: ${JSON.stringify(tally)}`], {
    observed: tally,
    ...bounds,
  });
}
