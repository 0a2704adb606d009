// Connection-table memory and lookup cost at a million entries, measured in a child
// process of its own (conn-table-child.ts) so the bench's own heap does not blur it.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { REPO_ROOT } from "../../lab/paths.ts";
import type { ConnTableResult } from "../types.ts";

export function measureConnTable(connections: number): ConnTableResult {
  const child = path.join(REPO_ROOT, "bench", "metrics", "conn-table-child.ts");
  const r = spawnSync(
    process.execPath,
    ["--expose-gc", "--import", "tsx", child, "--connections", String(connections)],
    { cwd: REPO_ROOT, encoding: "utf8", timeout: 300_000 },
  );
  if (r.status !== 0) {
    throw new Error(`the connection-table measurement failed: ${(r.stderr || r.stdout).trim()}`);
  }
  const line = r.stdout.trim().split("\n").pop() ?? "";
  return JSON.parse(line) as ConnTableResult;
}
