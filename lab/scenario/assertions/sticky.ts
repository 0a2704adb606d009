// The sticky assertion: every keep-alive connection, source address or VIP of http steps
// stayed on one real server (persistence, the hashing schedulers), and named ones on theirs.
import { z } from "zod";
import type { ConnRecord } from "../../../clients/http-conns.ts";
import { type CheckResult, missing, result } from "../checks.ts";
import { id, ipv4 } from "../fields.ts";
import type { AssertionKindDef, ClientContext } from "./types.ts";

const schema = z.strictObject({
  steps: z.array(id).min(1),
  by: z.enum(["connection", "source", "destination"]),
  /** At least this many different servers across the groups (shows the hash spreads). */
  minServers: z.number().int().min(1).default(1),
  /**
   * The server each group must have stayed on: a source address (by: source) or a VIP
   * (by: destination) → "rs1" or "172.16.0.2:80". A group named here must have been seen.
   */
  expect: z.record(ipv4, z.string().min(1)).optional(),
});

export type StickySpec = { kind: "sticky" } & z.infer<typeof schema>;

function judge(spec: StickySpec, ctx: ClientContext): CheckResult {
  const { outputs, windows, clientAddress } = ctx;
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

export const stickyAssertion: AssertionKindDef<StickySpec> = {
  kind: "sticky",
  description: "every connection, source or destination of http steps stayed on one server",
  schema,
  stepKinds: ["http"],
  check(spec, _ctx, where, problems) {
    if (spec.expect && spec.by === "connection") {
      problems.push(
        `${where}: expect names the server of each source or destination; not with by: connection`,
      );
    }
  },
  judgeClient: judge,
};
