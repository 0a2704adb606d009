// The `lvslab` CLI end to end (needs root): up, status, exec with exit-code pass-through,
// refusal of a second up, down. Uses its own lab name so it never meets another lab.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { requireRoot } from "../testing/require-root.ts";
import { labDown } from "../netns/lab.ts";
import { REPO_ROOT } from "../paths.ts";

const NAME = "lvstcli";

function lvslab(...args: string[]) {
  const r = spawnSync(
    process.execPath,
    [path.join(REPO_ROOT, "bin", "lvslab.mjs"), ...args],
    { encoding: "utf8", timeout: 60_000, env: { ...process.env, LVSLAB_CWD: "/" } },
  );
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("lvslab CLI: up, status, exec, down", { timeout: 120_000 }, async (t) => {
  if (!requireRoot(t)) return;
  await labDown(NAME);
  try {
    const up = lvslab("up", "--name", NAME, "--no-director");
    assert.equal(up.code, 0, up.err);
    assert.match(up.out, /lab 'lvstcli' is up/);

    const again = lvslab("up", "--name", NAME, "--no-director");
    assert.equal(again.code, 1);
    assert.match(again.err, /lab 'lvstcli' is already up; run 'lvslab down' first/);

    const status = lvslab("status", "--name", NAME);
    assert.equal(status.code, 0, status.out + status.err);
    assert.match(status.out, /rs1\s+lvstcli-rs1\s+eth0 172\.16\.0\.2\/24/);
    assert.match(status.out, /rs2-http\s+pid \d+\s+alive/);

    // Options after the host belong to the command; its exit code comes back.
    const exec = lvslab(
      "exec",
      "--name",
      NAME,
      "client",
      "--",
      "sh",
      "-c",
      "ip -4 -o addr show dev eth0; exit 7",
    );
    assert.equal(exec.code, 7, exec.err);
    assert.match(exec.out, /inet 198\.51\.100\.2\/24/);
    // The command runs in the user's directory (LVSLAB_CWD), not the repo.
    assert.equal(lvslab("exec", "--name", NAME, "rs1", "--", "pwd").out.trim(), "/");

    const down = lvslab("down", "--name", NAME);
    assert.equal(down.code, 0, down.err);
    assert.match(down.out, /deleted namespaces: .*lvstcli-net/);
    assert.match(lvslab("down", "--name", NAME).out, /was not up; nothing to remove/);
    const gone = lvslab("status", "--name", NAME);
    assert.equal(gone.code, 3);
    assert.match(gone.out, /is not up/);
  } finally {
    await labDown(NAME);
  }
});
