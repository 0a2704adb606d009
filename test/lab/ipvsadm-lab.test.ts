// Operating the running director with ipvsadm, on real traffic: a weight change shifts the
// measured split, weight 0 sends no new connections while an open one keeps working,
// persistence keeps a client on one server, a refused command leaves the table as it was,
// and -S output fed to -R rebuilds the same table.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execIn, labDown, labUp, repoProgram } from "../../lab/netns/lab.ts";
import { labTestBlocker, requireRoot } from "../../lab/testing/require-root.ts";
import type { LoadSummary } from "../../clients/http-load.ts";
import { httpLoadFromClient } from "../../lab/testing/http-load.ts";
import type { HoldReport } from "../../clients/tcp-hold.ts";
import { namespaceName } from "../../lab/topology.ts";
import { spawn } from "node:child_process";
import readline from "node:readline";
import { netnsExec } from "../../lab/netns/command.ts";

const LAB = "lvstadm";
const VIP = "203.0.113.5";
const canRun = labTestBlocker() === null;

async function ipvsadm(args: string[], input?: string) {
  return await execIn("director", ["ipvsadm", ...args], { name: LAB, input, timeoutMs: 20_000 });
}

function load(count: number): Promise<LoadSummary> {
  return httpLoadFromClient(LAB, `http://${VIP}/`, count);
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

/** Starts clients/tcp-hold.ts in the client host; resolves once its connection is open. */
function holdConnection(
  holdMs: number,
): Promise<{ ready: HoldReport; result: Promise<HoldReport> }> {
  const argv = repoProgram("clients/tcp-hold.ts", [
    "--target",
    `${VIP}:80`,
    "--hold-ms",
    String(holdMs),
    "--interval-ms",
    "300",
  ]);
  const [command, ...args] = netnsExec(namespaceName(LAB, "client"), argv);
  const child = spawn(command, args, {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const killer = setTimeout(() => child.kill("SIGKILL"), holdMs + 15_000);
  const lines = readline.createInterface({ input: child.stdout! });
  let resolveResult: (r: HoldReport) => void = () => {};
  const result = new Promise<HoldReport>((r) => (resolveResult = r));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", () => {
      clearTimeout(killer);
      reject(new Error("tcp-hold ended before its connection was open"));
    });
    lines.on("line", (line) => {
      const m = /^tcp-hold (ready|result) (.*)$/.exec(line);
      if (!m) return;
      const report = JSON.parse(m[2]) as HoldReport;
      if (m[1] === "ready") resolve({ ready: report, result });
      else resolveResult(report);
    });
  });
}

test("weight 0 takes no new connections while an open connection keeps working", async (t) => {
  if (!requireRoot(t)) return;
  const hold = await holdConnection(6000);
  const held = hold.ready.connections[0];
  assert.equal(held.state, "open", JSON.stringify(held));
  // Drain exactly the server that holds the open connection.
  const [rs, other] = held.server === "rs1" ? ["172.16.0.2:80", "rs2"] : ["172.16.0.3:8000", "rs1"];
  const drain = await ipvsadm(["-e", "-t", `${VIP}:80`, "-r", rs, "-m", "-w", "0"]);
  assert.equal(drain.code, 0, drain.stderr);
  const summary = await load(30);
  assert.deepEqual(summary.byServer, { [other]: 30 });
  const listing = await ipvsadm(["-L", "-n"]);
  assert.match(listing.stdout, new RegExp(`-> ${rs.replace(/\./g, "\\.")}\\s+Masq\\s+0\\s+1\\s`));
  const final = (await hold.result).connections[0];
  assert.equal(final.state, "open", JSON.stringify(final));
  assert.ok(final.answered >= 10, `the held connection answered ${final.answered} requests`);
  assert.deepEqual([...new Set(final.servers)], [held.server]);
  // Leave rs1 drained and rs2 at weight 2 for the tests below, whichever was drained.
  await ipvsadm(["-e", "-t", `${VIP}:80`, "-r", "172.16.0.2:80", "-m", "-w", "0"]);
  await ipvsadm(["-e", "-t", `${VIP}:80`, "-r", "172.16.0.3:8000", "-m", "-w", "2"]);
});

test("persistence keeps one client on one real server across 50 new connections", async (t) => {
  if (!requireRoot(t)) return;
  await ipvsadm(["-e", "-t", `${VIP}:80`, "-r", "172.16.0.2:80", "-m", "-w", "1"]);
  const edit = await ipvsadm(["-E", "-t", `${VIP}:80`, "-s", "rr", "-p", "30"]);
  assert.equal(edit.code, 0, edit.stderr);
  const summary = await load(50);
  assert.equal(summary.ok, 50);
  const servers = Object.keys(summary.byServer);
  assert.equal(servers.length, 1, `all 50 on one server: ${JSON.stringify(summary.byServer)}`);
  const [dest] = Object.keys(summary.byServerAddress)[0].split(" ").slice(1);
  // The template, as IPVS lists it: client address, port 0, state NONE, to that server.
  const conns = await ipvsadm(["-L", "-n", "-c"]);
  const template = new RegExp(
    `^TCP\\s+\\d\\d:\\d\\d\\s+NONE\\s+198\\.51\\.100\\.2:0\\s+203\\.0\\.113\\.5:80\\s+${
      dest.replace(/\./g, "\\.")
    }$`,
    "m",
  );
  assert.match(conns.stdout, template);
  const persist = await ipvsadm(["-L", "-n", "--persistent-conn"]);
  assert.match(persist.stdout, /TCP\s+203\.0\.113\.5:80 rr persistent 30/);
  assert.match(
    persist.stdout,
    new RegExp(`-> ${dest.replace(/\./g, "\\.")}\\s+\\d+\\s+1\\s`),
    "the server holds one persistent template",
  );
  // Back to a plain service: the next 50 are shared again, 25 each by rr, the template
  // notwithstanding (it binds only a persistent service's new connections).
  assert.equal((await ipvsadm(["-E", "-t", `${VIP}:80`, "-s", "rr"])).code, 0);
  const shared = await load(50);
  assert.deepEqual(shared.byServer, { rs1: 25, rs2: 25 });
  await ipvsadm(["-e", "-t", `${VIP}:80`, "-r", "172.16.0.2:80", "-m", "-w", "0"]);
});

test("with expire_nodest_conn=1 deleting a real server ends its open connections at once", async (t) => {
  if (!requireRoot(t)) return;
  await ipvsadm(["-e", "-t", `${VIP}:80`, "-r", "172.16.0.2:80", "-m", "-w", "1"]);
  const set = await execIn("director", ["lvs-sysctl", "-w", "net.ipv4.vs.expire_nodest_conn=1"], {
    name: LAB,
  });
  assert.equal(set.stdout.trim(), "net.ipv4.vs.expire_nodest_conn = 1", set.stderr);
  const hold = await holdConnection(5000);
  const held = hold.ready.connections[0];
  const rs = held.server === "rs1" ? "172.16.0.2:80" : "172.16.0.3:8000";
  const del = await ipvsadm(["-d", "-t", `${VIP}:80`, "-r", rs]);
  assert.equal(del.code, 0, del.stderr);
  const conns = await ipvsadm(["-L", "-n", "-c"]);
  assert.doesNotMatch(conns.stdout, new RegExp(rs.replace(/\./g, "\\.")));
  // The entry is gone, so the connection's next segment is answered with a RST.
  const final = (await hold.result).connections[0];
  assert.equal(final.state, "reset", JSON.stringify(final));
  await execIn("director", ["lvs-sysctl", "-w", "expire_nodest_conn=0"], { name: LAB });
  const readd = await ipvsadm(["-a", "-t", `${VIP}:80`, "-r", rs, "-m", "-w", "1"]);
  assert.equal(readd.code, 0, readd.stderr);
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
  // Route and Tunnel servers beside a Masq one, silently, as ipvsadm takes them.
  const route = await ipvsadm(["-a", "-u", `${VIP}:53`, "-r", "172.16.0.2:53", "-g", "-w", "2"]);
  assert.equal(route.code, 0, route.stderr);
  assert.equal(route.stderr, "");
  const tunnel = await ipvsadm(["-a", "-u", `${VIP}:53`, "-r", "172.16.0.4:53", "-i", "-w", "1"]);
  assert.equal(tunnel.code, 0, tunnel.stderr);
  assert.equal(tunnel.stderr, "");
  const saved = await ipvsadm(["-S", "-n"]);
  assert.match(saved.stdout, /-A -u 203\.0\.113\.5:53 -s sh -p 120 -M 255\.255\.255\.0/);
  assert.match(saved.stdout, /-a -u 203\.0\.113\.5:53 -r 172\.16\.0\.2:53 -g -w 2/);
  assert.match(saved.stdout, /-a -u 203\.0\.113\.5:53 -r 172\.16\.0\.4:53 -i -w 1/);
  assert.equal((await ipvsadm(["-C"])).code, 0);
  assert.equal((await ipvsadm(["-S", "-n"])).stdout, "");
  const restore = await ipvsadm(["-R"], saved.stdout);
  assert.equal(restore.code, 0, restore.stderr);
  assert.equal((await ipvsadm(["-S", "-n"])).stdout, saved.stdout);
});
