// compose.yaml on its own, without lvslab: Compose v2 (`docker compose`) and v1.29
// (`docker-compose`) each bring the lab up, the client container's curl to the VIP is
// answered by both real servers, and `down -v` leaves nothing of the project. Needs root and
// a Docker engine; under CI=true both command lines must be there (.ci/run installs them).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { runAsync } from "../../lab/netns/command.ts";
import { COMPOSE_FILE } from "../../lab/compose/compose-cli.ts";
import { LOCAL_BASE_IMAGE } from "../../lab/compose/compose-backend.ts";
import { composeTestBlocker } from "../../lab/compose/test-blocker.ts";
import { requireRoot } from "../../lab/testing/require-root.ts";
import { REPO_ROOT } from "../../lab/paths.ts";

const PROJECT = "lvscmpcli";
const VIP = "203.0.113.5";
const engineBlocker = composeTestBlocker();

function works(argv: string[]): boolean {
  const r = spawnSync(argv[0], [...argv.slice(1), "version"], { timeout: 15_000 });
  return !r.error && r.status === 0;
}

/** BASE_IMAGE for compose.yaml: the environment's, else the offline image when built. */
function baseImageEnv(): Record<string, string> {
  if (process.env.BASE_IMAGE) return { BASE_IMAGE: process.env.BASE_IMAGE };
  const r = spawnSync("docker", ["image", "inspect", LOCAL_BASE_IMAGE], { timeout: 15_000 });
  return r.status === 0 ? { BASE_IMAGE: LOCAL_BASE_IMAGE } : {};
}

for (
  const [label, cli, install] of [
    ["Compose v2 (docker compose)", ["docker", "compose"], "scripts/docker-compose-v2.sh"],
    ["Compose v1 (docker-compose)", ["docker-compose"], "scripts/docker-start.sh"],
  ] as const
) {
  test(`${label} brings up a working lab from compose.yaml alone`, async (t) => {
    const blocker = engineBlocker ??
      (works([...cli]) ? null : `${cli.join(" ")} is not installed; run sudo ${install}`);
    if (!requireRoot(t, blocker)) return;
    const compose = (args: string[], timeoutMs = 180_000) =>
      runAsync([...cli, "-f", COMPOSE_FILE, "-p", PROJECT, ...args], {
        cwd: REPO_ROOT,
        env: baseImageEnv(),
        timeoutMs,
      });
    await compose(["down", "-v", "--remove-orphans"]);
    try {
      const up = await compose(["up", "-d", "--build"]);
      assert.equal(up.code, 0, up.stderr.slice(-2000));
      // The director needs a moment after its container starts: retry one request, bounded,
      // until it is answered. Attempts that met a director still starting may have moved
      // wrr's turn, so the split is counted over the requests after it.
      const ask = async () => {
        const r = await compose(
          ["exec", "-T", "client", "curl", "-s", "-m", "3", `http://${VIP}/`],
          20_000,
        );
        return /lvslab-server" content="([^"]+)"/.exec(r.stdout)?.[1];
      };
      const deadline = Date.now() + 60_000;
      let first = await ask();
      while (!first && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        first = await ask();
      }
      assert.ok(first, "the VIP never answered within 60 s");
      // wrr 1:2: any 12 requests in a row are four rounds of wrr's 3-request cycle.
      const servers: string[] = [];
      for (let i = 0; i < 12; i++) servers.push((await ask()) ?? "no answer");
      const rs1 = servers.filter((s) => s === "rs1").length;
      const rs2 = servers.filter((s) => s === "rs2").length;
      assert.deepEqual({ rs1, rs2 }, { rs1: 4, rs2: 8 }, `answers: ${servers.join(", ")}`);
    } finally {
      const down = await compose(["down", "-v", "--remove-orphans"]);
      assert.equal(down.code, 0, down.stderr);
    }
    const left = spawnSync("docker", [
      "ps",
      "-aq",
      "--filter",
      `label=com.docker.compose.project=${PROJECT}`,
    ], { encoding: "utf8", timeout: 15_000 });
    assert.equal(left.stdout.trim(), "", "no container of the project is left");
    const nets = spawnSync("docker", [
      "network",
      "ls",
      "-q",
      "--filter",
      `label=com.docker.compose.project=${PROJECT}`,
    ], { encoding: "utf8", timeout: 15_000 });
    assert.equal(nets.stdout.trim(), "", "no network of the project is left");
  });
}
