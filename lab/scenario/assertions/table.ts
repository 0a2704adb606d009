// The table assertion: a table step's snapshot of the director's connection table has the
// entries it should (count, state, timer) and none it should not.
import { z } from "zod";
import type { TableEntry } from "../conn-table.ts";
import { type CheckResult, missing, result } from "../checks.ts";
import { id, port } from "../fields.ts";
import type { StepOutput } from "../steps/index.ts";
import type { AssertionKindDef, ClientContext } from "./types.ts";

const entry = z.strictObject({
  /**
   * Only the entries of this hold step's connections (client address:port and the hold's
   * VIP:port), whatever their state unless `state` is given.
   */
  hold: id.optional(),
  protocol: z.enum(["tcp", "udp"]).optional(),
  state: z.string().optional(),
  vport: port.optional(),
  /** "address:port" of the real server. */
  destination: z.string().optional(),
  min: z.number().int().min(0).default(1),
  max: z.number().int().min(0).optional(),
  /** Every matching entry expires within this many seconds (not a longer timer). */
  maxExpireSeconds: z.number().int().min(0).optional(),
});
const schema = z.strictObject({
  step: id,
  present: z.array(entry).default([]),
  absent: z.array(entry.omit({ min: true, max: true, maxExpireSeconds: true })).default([]),
});

export type TableSpec = { kind: "table" } & z.infer<typeof schema>;
export type TableEntrySpec = z.infer<typeof entry>;

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
export function holdTuples(
  holdId: string,
  outputs: ReadonlyMap<string, StepOutput>,
): HoldTuples | string {
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
function judge(spec: TableSpec, { outputs }: ClientContext): CheckResult {
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

export const tableAssertion: AssertionKindDef<TableSpec> = {
  kind: "table",
  description: "a table snapshot has the entries it should and none it should not",
  schema,
  stepKinds: ["table"],
  check(spec, ctx, where, problems) {
    for (const e of [...spec.present, ...spec.absent]) {
      if (e.hold !== undefined && ctx.stepKinds.get(e.hold) !== "hold") {
        problems.push(`${where}: hold '${e.hold}' is not the id of a hold step`);
      }
    }
  },
  judgeClient: judge,
};
