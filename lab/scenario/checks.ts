// Assertions judged from what the client programs and ipvsadm reported (the capture-based
// ones live in lab/assertions): which real server answered, how connections ended, whether
// connections, sources or destinations stuck to one server, what became of held connections,
// and the director's connection table. Each gives one PASS/FAIL sentence.
import { type AssertionResult, verdict } from "../assertions/result.ts";
import { assertDistribution, countsFromAttribution } from "../assertions/distribution.ts";
import type { ConnRecord } from "../../clients/http-conns.ts";
import type { TableEntry } from "./conn-table.ts";
import type { AssertionSpec, Bounds, TableEntrySpec } from "./schema.ts";
import type { StepOutput, StepWindow } from "./steps.ts";
import { type FtpSummary, sizeText } from "./ftp-step.ts";

/** Every assertion, here or in lab/assertions, gives this shape. */
export type CheckResult = AssertionResult;

function result(
  name: string,
  passed: boolean,
  sentence: string,
  details: string[] = [],
  data: Record<string, unknown> = {},
): CheckResult {
  return verdict(name, passed, sentence, details, data);
}

/** Counts as "name address:port" → n, so a key can be a name ("rs1") or an address. */
type Tally = Record<string, number>;

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

function missing(name: string, stepId: string): CheckResult {
  return result(name, false, `${name}: step '${stepId}' left no result (it did not run or failed)`);
}

function boundsCheck(
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

function stickyCheck(
  spec: Extract<AssertionSpec, { kind: "sticky" }>,
  outputs: Map<string, StepOutput>,
  windows: Map<string, StepWindow>,
  clientAddress: string,
): CheckResult {
  const name = `sticky by ${spec.by} (${spec.steps.join(", ")})`;
  const groups = new Map<string, Set<string>>();
  const broken: string[] = [];
  /** Groups named in spec.expect that were not seen, or not only on their server. */
  const misplaced: string[] = [];
  let connections = 0;
  for (const stepId of spec.steps) {
    const out = outputs.get(stepId);
    if (!out || out.kind !== "http") return missing(name, stepId);
    const vip = windows.get(stepId)?.vip ?? "?";
    for (const r of out.data.records as ConnRecord[]) {
      if (!r || r.answered === 0) continue;
      connections++;
      const servers = Object.keys(r.servers);
      if (spec.by === "connection") {
        groups.set(`connection #${r.index} of '${stepId}'`, new Set(servers));
        if (servers.length > 1 || r.localPorts.length > 1) {
          broken.push(
            `connection #${r.index} of '${stepId}': ${r.localPorts.length} TCP connection(s), answers from ${
              servers.join(" and ")
            }`,
          );
        }
        continue;
      }
      const key = spec.by === "source"
        ? `source ${r.source ?? clientAddress}`
        : `destination ${vip}`;
      const set = groups.get(key) ?? new Set<string>();
      for (const s of servers) set.add(s);
      groups.set(key, set);
    }
  }
  if (spec.by !== "connection") {
    for (const [key, set] of groups) {
      if (set.size > 1) broken.push(`${key} went to ${[...set].sort().join(" and ")}`);
    }
    // The named groups: each seen, and only on its server (a name or an address:port).
    for (const [addr, want] of Object.entries(spec.expect ?? {})) {
      const key = `${spec.by} ${addr}`;
      const set = groups.get(key);
      if (!set) {
        misplaced.push(`${key} had no answered connection (expected ${want})`);
        continue;
      }
      const other = [...set].filter((s) => s !== want && !s.split(" ").includes(want));
      if (other.length) {
        misplaced.push(`${key} went to ${other.sort().join(" and ")} (expected ${want})`);
      }
    }
  }
  const all = new Set<string>();
  for (const set of groups.values()) for (const s of set) all.add(s);
  if (connections === 0) return result(name, false, `${name}: no connection was answered`);
  const spread = all.size >= spec.minServers;
  const passed = broken.length === 0 && misplaced.length === 0 && spread;
  const mapping = spec.by === "connection"
    ? `${groups.size} connections, each answered by one server`
    : [...groups].map(([k, s]) => `${k} → ${[...s].join("+")}`).slice(0, 12).join("; ");
  const sentence = passed
    ? `every ${spec.by} stayed on one real server${
      spec.expect ? ", each named one on its expected server" : ""
    }: ${mapping}` +
      (spec.minServers > 1 ? ` (${all.size} servers used)` : "")
    : broken.length || misplaced.length
    ? [
      broken.length
        ? `${broken.length} ${
          spec.by === "connection" ? "connections" : `${spec.by}s`
        } were split across servers: ${broken.slice(0, 3).join("; ")}`
        : "",
      misplaced.length
        ? `${misplaced.length} ${spec.by}(s) not on their expected server: ${
          misplaced.slice(0, 3).join("; ")
        }`
        : "",
    ].filter(Boolean).join("; and ")
    : `only ${all.size} server(s) used across ${groups.size} ${spec.by}s, expected at least ${spec.minServers}`;
  return result(name, passed, sentence, [...broken, ...misplaced]);
}

/**
 * An ftp step's transfers: enough of them, every one with the same sha256 at both ends, over
 * the given number of control connections, and in plain passive mode every 227 reply curl
 * got names the VIP (the director rewrote the real server's address).
 */
export function ftpCheck(
  spec: Extract<AssertionSpec, { kind: "ftp" }>,
  outputs: Map<string, StepOutput>,
): CheckResult {
  const name = `ftp transfers of '${spec.step}'`;
  const out = outputs.get(spec.step);
  if (!out || out.kind !== "ftp") return missing(name, spec.step);
  const s: FtpSummary = out.data;
  const parts: string[] = [];
  let ok = true;
  const n = s.transfers.length;
  const bad = s.transfers.filter((t) => t.outcome !== "intact");
  if (n < spec.minTransfers) {
    ok = false;
    parts.push(`only ${n} transfers (expected at least ${spec.minTransfers})`);
  }
  if (bad.length) {
    ok = false;
    parts.push(
      `${bad.length} of ${n} transfers did not arrive intact (${s.outcomes.corrupted} with ` +
        `another sha256, ${s.outcomes.failed} missing; curl exit ${s.curlExit})`,
    );
  } else {
    parts.push(`all ${n} transfers arrived with the same sha256 at both ends`);
  }
  if (spec.controlConnections !== undefined) {
    const good = s.controlConnections === spec.controlConnections;
    if (!good) ok = false;
    parts.push(
      `over ${s.controlConnections} control connection(s)${
        good ? "" : ` (expected ${spec.controlConnections})`
      }, ${s.reused} reused`,
    );
  }
  if (s.mode === "passive" && !s.extended) {
    const good = s.replies.pasvToVip >= n && s.replies.pasvToVip === s.replies.pasv;
    if (!good) ok = false;
    parts.push(
      `${s.replies.pasvToVip} of ${s.replies.pasv} 227 replies named the VIP${
        good ? "" : ` (expected one per transfer, all naming the VIP)`
      }`,
    );
  }
  // The transfers that went wrong first, then the rest.
  const detail = [...bad, ...s.transfers.filter((t) => t.outcome === "intact")].map((t) =>
    `#${t.index} ${t.direction} ${sizeText(t.size)} ${t.remote}: ${t.outcome}` +
    (t.outcome === "intact" ? "" : ` (sent ${t.sent ?? "?"}, received ${t.received ?? "nothing"})`)
  );
  return result(
    name,
    ok,
    `${s.mode}${s.extended ? " extended" : ""} FTP to ${s.target}, step '${spec.step}': ${
      parts.join("; ")
    }`,
    detail.length > 12 ? [...detail.slice(0, 12), `... and ${detail.length - 12} more`] : detail,
    { transfers: n, ...s.outcomes, controlConnections: s.controlConnections, reused: s.reused },
  );
}

type EntryFilter = Omit<TableEntrySpec, "min" | "max">;

/** The connection-table tuple of a hold step's connections: client address:port, VIP:port. */
interface HoldTuples {
  clients: Set<string>;
  virtual: string;
}

/**
 * The client address:port of every connection a hold step opened, and its VIP:port, to find
 * their entries in the table; a sentence instead when there is none (a filter that matches
 * nothing would make `absent` pass for nothing).
 */
export function holdTuples(holdId: string, outputs: Map<string, StepOutput>): HoldTuples | string {
  const out = outputs.get(holdId);
  if (!out || out.kind !== "hold") return `hold '${holdId}' left no result`;
  const clients = new Set(
    out.data.connections.flatMap((c) =>
      c.localAddress && c.localPort ? [`${c.localAddress}:${c.localPort}`] : []
    ),
  );
  if (clients.size === 0) return `hold '${holdId}' opened no connection to look for`;
  return { clients, virtual: out.data.target };
}

function entryMatches(e: TableEntry, spec: EntryFilter, holds: Map<string, HoldTuples>): boolean {
  if (spec.hold) {
    const h = holds.get(spec.hold);
    if (!h || !h.clients.has(e.source) || e.virtual !== h.virtual) return false;
  }
  if (spec.protocol && e.protocol !== spec.protocol) return false;
  if (spec.state && e.state !== spec.state) return false;
  if (spec.vport && !e.virtual.endsWith(`:${spec.vport}`)) return false;
  if (spec.destination && e.destination !== spec.destination) return false;
  return true;
}

function describeEntry(spec: EntryFilter, holds: Map<string, HoldTuples>): string {
  const h = spec.hold ? holds.get(spec.hold) : undefined;
  const parts = [
    spec.protocol?.toUpperCase(),
    spec.state ?? (spec.hold ? "(any state)" : undefined),
    spec.vport ? `to VIP port ${spec.vport}` : undefined,
    spec.destination ? `on ${spec.destination}` : undefined,
    h ? `of hold '${spec.hold}' (${[...h.clients].join(", ")} to ${h.virtual})` : undefined,
  ].filter(Boolean);
  return parts.length ? parts.join(" ") : "any";
}

/**
 * A table snapshot against its present and absent entries. An entry named by a hold step
 * matches only that hold's connections, in any state unless one is given: `absent` with a
 * hold and no state shows the director itself expired the entry (a server's FIN would only
 * have moved it to another state).
 */
export function tableCheck(
  spec: Extract<AssertionSpec, { kind: "table" }>,
  outputs: Map<string, StepOutput>,
): CheckResult {
  const name = `connection table '${spec.step}'`;
  const out = outputs.get(spec.step);
  if (!out || out.kind !== "table") return missing(name, spec.step);
  const entries = out.data;
  const holds = new Map<string, HoldTuples>();
  const unusable: string[] = [];
  for (const e of [...spec.present, ...spec.absent]) {
    if (!e.hold || holds.has(e.hold)) continue;
    const t = holdTuples(e.hold, outputs);
    if (typeof t === "string") unusable.push(t);
    else holds.set(e.hold, t);
  }
  if (unusable.length) {
    return result(
      name,
      false,
      `${name}: cannot tell that hold's entries: ${[...new Set(unusable)].join("; ")}`,
    );
  }
  const parts: string[] = [];
  let ok = true;
  for (const p of spec.present) {
    const found = entries.filter((e) => entryMatches(e, p, holds));
    const tooFew = found.length < p.min;
    const tooMany = p.max !== undefined && found.length > p.max;
    const late = p.maxExpireSeconds !== undefined
      ? found.filter((e) => e.expireSeconds > p.maxExpireSeconds!)
      : [];
    let part = `${found.length} ${describeEntry(p, holds)} entr${found.length === 1 ? "y" : "ies"}`;
    if (tooFew || tooMany) {
      part += ` (expected ${p.max === undefined ? `at least ${p.min}` : `${p.min}-${p.max}`})`;
      ok = false;
    }
    if (found.length && p.maxExpireSeconds !== undefined) {
      const longest = Math.max(...found.map((e) => e.expireSeconds));
      part += `, expiring within ${longest} s`;
      if (late.length) {
        part += ` (expected at most ${p.maxExpireSeconds} s)`;
        ok = false;
      }
    }
    parts.push(part);
  }
  for (const a of spec.absent) {
    const found = entries.filter((e) => entryMatches(e, a, holds));
    const states = found.length
      ? ` (expected none), in state ${[...new Set(found.map((e) => e.state))].join(", ")}`
      : "";
    parts.push(`${found.length} ${describeEntry(a, holds)} entries${states}`);
    if (found.length) ok = false;
  }
  const lines = entries.slice(0, 20).map((e) =>
    `${e.protocol.toUpperCase()} ${e.expireSeconds}s ${e.state} ${e.source} ${e.virtual} ${e.destination}`
  );
  return result(name, ok, `${name}: ${parts.join("; ")}`, lines);
}

/**
 * Judges what the clients and the table show: kinds servers, results, sticky, held, table,
 * and the client-attribution half of distribution. Capture-only kinds give [].
 */
export function evaluateClientAssertion(
  spec: AssertionSpec,
  outputs: Map<string, StepOutput>,
  windows: Map<string, StepWindow>,
  clientAddress: string,
): CheckResult[] {
  const one = clientCheck(spec, outputs, windows, clientAddress);
  return one ? [one] : [];
}

function clientCheck(
  spec: AssertionSpec,
  outputs: Map<string, StepOutput>,
  windows: Map<string, StepWindow>,
  clientAddress: string,
): CheckResult | null {
  switch (spec.kind) {
    case "distribution": {
      if (!spec.from.includes("client")) return null;
      const w = windows.get(spec.step);
      const what = `answers from ${
        w ? `${w.vip}:${w.vport}` : "the service"
      } (client attribution, step '${spec.step}')`;
      const name = `distribution of '${spec.step}' (client attribution)`;
      const out = outputs.get(spec.step);
      if (!out || out.kind !== "http") return missing(name, spec.step);
      return assertDistribution({
        counts: countsFromAttribution(out.data.byServerAddress),
        weights: spec.weights,
        alpha: spec.significance,
        what,
        name,
      });
    }
    case "servers": {
      const name = `servers of '${spec.step}'`;
      const out = outputs.get(spec.step);
      if (!out) return missing(name, spec.step);
      const unit = out.kind === "hold"
        ? "held connections"
        : out.kind === "udp"
        ? "datagrams"
        : "answers";
      return boundsCheck(name, `${unit} of '${spec.step}' per real server`, serverTally(out), spec);
    }
    case "results": {
      const name = `results of '${spec.step}'`;
      const out = outputs.get(spec.step);
      if (!out) return missing(name, spec.step);
      const unit = out.kind === "udp" ? "datagrams" : "connections";
      return boundsCheck(name, `${unit} of '${spec.step}' by outcome`, outcomeTally(out), spec);
    }
    case "held": {
      const name = `held connections of '${spec.step}'${spec.server ? ` on ${spec.server}` : ""}`;
      const out = outputs.get(spec.step);
      if (!out || out.kind !== "hold") return missing(name, spec.step);
      const conns = out.data.connections.filter((c) =>
        !spec.server || c.server === spec.server || c.serverAddress === spec.server
      );
      const tally: Tally = {};
      for (const c of conns) tally[c.state] = (tally[c.state] ?? 0) + 1;
      const r = boundsCheck(name, `${name} at the end, by state`, tally, spec);
      r.details.push(
        ...conns.map((c) =>
          `#${c.index} ${c.server ?? "?"} ${c.state}: ${c.answered} answers${
            c.error ? ` (${c.error})` : ""
          }`
        ),
      );
      if (!out.final) {
        r.details.push("(the holder's final report was missing; states are from its start)");
      }
      return r;
    }
    case "sticky":
      return stickyCheck(spec, outputs, windows, clientAddress);
    case "table":
      return tableCheck(spec, outputs);
    case "ftp":
      return ftpCheck(spec, outputs);
    default:
      return null;
  }
}
