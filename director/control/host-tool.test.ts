// exitAfterOutput: a program that writes 300 kB to a pipe and exits through it loses nothing
// (process.exit() right after the write keeps only the pipe's first 64 KiB).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { REPO_ROOT } from "../../lab/paths.ts";

const SIZE = 300_000;

function run(exit: string): { length: number; status: number | null } {
  const tool = path.join(REPO_ROOT, "director", "control", "host-tool.ts");
  const script = `import { exitAfterOutput } from ${JSON.stringify(tool)};\n` +
    `process.stdout.write("x".repeat(${SIZE}));\n${exit};\n`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    maxBuffer: 4 * SIZE,
  });
  return { length: r.stdout.length, status: r.status };
}

test("all of a large output reaches the pipe, and the exit code is kept", () => {
  assert.deepEqual(run("exitAfterOutput(3)"), { length: SIZE, status: 3 });
});
