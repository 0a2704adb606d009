// Operating the running director with ipvsadm, on real traffic: a weight change shifts the
// measured split, weight 0 sends no new connections, a refused command leaves the table as
// it was, and -S output fed to -R rebuilds the same table.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execIn, labDown, labUp, repoProgram } from "../../lab/lab.ts";
import { labTestBlocker, requireRoot } from "../../lab/testing/require-root.ts";
import type { LoadSummary } from "../../clients/http-load.ts";

const LAB = "lvstadm";
const VIP = "203.0.113.5";
const canRun = labTestBlocker() === null;

async function ipvsadm(args: string[], input?: string) {
  return await execIn("director", ["ipvsadm", ...args], { name: LAB, input, timeoutMs: 20_000 });
}

async function load(count: number): Promise<LoadSummary> {
  const r = await execIn(
    "client",
    repoProgram("clients/http-client.ts", [
      "--url",
      `http://${VIP}/`,
      "--count",
      String(count),
      "--json",
      "--quiet",
    ]),
    { name: LAB, timeoutMs: 60_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as LoadSummary;
}

before(async () => {
  if (!canRun) return;
  await labDown(LAB);
  await labUp({ name: LAB });
});

after(async () => {
  if (canRun) await labDown(LAB);
});

test("changing a weight at run time shifts the measured distribution", async (t) => {
  if (!requireRoot(t)) return;
  const edit = await ipvsadm(["-e", "-t", `${VIP}:80`, "-r", "172.16.0.2:80", "-m", "-w", "3"]);
  assert.equal(edit.code, 0, edit.stderr);
  const summary = await load(100);
  assert.equal(summary.ok, 100);
  // wrr at 3:2 gives rs1 60 of 100 (±1 for where the cycle starts).
  assert.ok(Math.abs(summary.byServer.rs1 - 60) <= 1, JSON.stringify(summary.byServer));
  const listing = await ipvsadm(["-L", "-n"]);
  assert.match(listing.stdout, /-> 172\.16\.0\.2:80\s+Masq\s+3\s/);
});

test("weight 0 takes no new connections", async (t) => {
  if (!requireRoot(t)) return;
  const drain = await ipvsadm(["-e", "-t", `${VIP}:80`, "-r", "172.16.0.2:80", "-m", "-w", "0"]);
  assert.equal(drain.code, 0, drain.stderr);
  const summary = await load(30);
  assert.deepEqual(summary.byServer, { rs2: 30 });
});

test("a refused command prints ipvsadm's error, exits non-zero and changes nothing", async (t) => {
  if (!requireRoot(t)) return;
  const before = await ipvsadm(["-S", "-n"]);
  const dup = await ipvsadm(["-a", "-t", `${VIP}:80`, "-r", "172.16.0.3:8000", "-m"]);
  assert.equal(dup.code, 255);
  assert.equal(dup.stderr.trim(), "Destination already exists");
  const noSvc = await ipvsadm(["-D", "-t", `${VIP}:8081`]);
  assert.equal(noSvc.code, 255);
  assert.equal(noSvc.stderr.trim(), "No such service");
  // A restore whose last line fails applies none of its lines.
  const partial = await ipvsadm(
    ["-R"],
    `-A -t ${VIP}:8082 -s rr\n-a -t ${VIP}:9999 -r 172.16.0.2:80 -m\n`,
  );
  assert.notEqual(partial.code, 0);
  assert.equal((await ipvsadm(["-S", "-n"])).stdout, before.stdout);
});

test("-S output fed to -R rebuilds the same table", async (t) => {
  if (!requireRoot(t)) return;
  const add = await ipvsadm([
    "-A",
    "-u",
    `${VIP}:53`,
    "-s",
    "sh",
    "-p",
    "120",
    "-M",
    "255.255.255.0",
  ]);
  assert.equal(add.code, 0, add.stderr);
  await ipvsadm(["-a", "-u", `${VIP}:53`, "-r", "172.16.0.3:53", "-m", "-w", "4"]);
  const saved = await ipvsadm(["-S", "-n"]);
  assert.match(saved.stdout, /-A -u 203\.0\.113\.5:53 -s sh -p 120 -M 255\.255\.255\.0/);
  assert.equal((await ipvsadm(["-C"])).code, 0);
  assert.equal((await ipvsadm(["-S", "-n"])).stdout, "");
  const restore = await ipvsadm(["-R"], saved.stdout);
  assert.equal(restore.code, 0, restore.stderr);
  assert.equal((await ipvsadm(["-S", "-n"])).stdout, saved.stdout);
});
