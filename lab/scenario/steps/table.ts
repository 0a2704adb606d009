// The table step: a snapshot of the director's connection table (ipvsadm -L -n -c), kept
// under its id for table assertions and written to logs/table-<id>.txt.
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { parseConnectionTable, type TableEntry } from "../conn-table.ts";
import { id } from "../fields.ts";
import { counts, tally } from "./common.ts";
import type { StepKindDef } from "./types.ts";

export type TableStep = { kind: "table"; id: string };
export type TableOutput = { kind: "table"; data: TableEntry[] };

export const tableStep: StepKindDef<TableStep, TableOutput> = {
  kind: "table",
  description: "a snapshot of the director's connection table, for table assertions",
  schema: z.union([id, z.strictObject({ id })]),
  leavesResult: true,
  fromYaml: (value) => ({
    kind: "table",
    id: typeof value === "string" ? value : (value as { id: string }).id,
  }),
  async run(step, ctx) {
    const r = await ctx.backend.exec("director", ["ipvsadm", "-L", "-n", "-c"], {
      timeoutMs: ctx.budget(30_000),
    });
    if (r.code !== 0) {
      throw new Error(`'ipvsadm -L -n -c' exited with ${r.code}: ${r.stderr.trim()}`);
    }
    const entries = parseConnectionTable(r.stdout);
    fs.writeFileSync(path.join(ctx.logDir, `table-${step.id}.txt`), r.stdout);
    ctx.note(step.id, { kind: "table", data: entries });
    const byState = tally(entries, (e) => `${e.protocol.toUpperCase()} ${e.state}`);
    return `connection table: ${entries.length} entries (${counts(byState)})`;
  },
};
