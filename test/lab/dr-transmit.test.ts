// VS/DR through the real kernel, on the NAT lab's hosts: rs1 also holds the VIP on lo (the
// LVS-DR recipe's arp_ignore/arp_announce/rp_filter) and serves VIP:8080; `ipvsadm -a -g`
// makes it a Route server. curl gets its pages through the director, the director sends
// the client's packets as frames (lvs-stats) and never rewrites a reply; the entries
// follow IPVS's INPUT-ONLY table; a server that does not answer ARP, and one on no attached
// network, are counted under their own reasons. (The DR lab itself: test/lab/dr-lab.test.ts.)
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { execIn } from "../../lab/netns/lab.ts";
import { requireRoot } from "../../lab/testing/require-root.ts";
import { useLab } from "../../lab/testing/lab-fixture.ts";
import { spawnInNamespace, waitUntilReady } from "../../lab/netns/processes.ts";
import { namespaceName } from "../../lab/topology.ts";
import { REPO_ROOT } from "../../lab/paths.ts";
import { READY_LINES } from "../../director/ready-lines.ts";

const LAB = "lvstdrx";
const VIP = "203.0.113.5";
const lab = useLab(LAB);

async function inHost(host: string, argv: string[], timeoutMs = 20_000) {
  return await execIn(host, argv, { name: LAB, timeoutMs });
}

async function ipvsadm(...argv: string[]) {
  const r = await inHost("director", ["ipvsadm", ...argv]);
  assert.equal(r.code, 0, `ipvsadm ${argv.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

interface Counters {
  drops: Record<string, number>;
  framesSent: number;
  frameSendErrors: number;
  superPacketsRead: number;
}

async function stats(): Promise<Counters> {
  const r = await inHost("director", ["lvs-stats", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

async function curl(port: number, timeoutS = 3) {
  return await inHost("client", [
    "curl",
    "-s",
    "-S",
    "-m",
    String(timeoutS),
    `http://${VIP}:${port}/`,
  ]);
}

/** Polls lvs-stats until the drop counter `reason` is non-zero (or the deadline). */
async function dropsOf(reason: string, withinMs: number, poke: () => Promise<unknown>) {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const n = (await stats()).drops[reason] ?? 0;
    if (n > 0 || Date.now() > deadline) return n;
    await poke();
  }
}

test("VS/DR: pages through the director, frames to rs1's MAC, replies never rewritten, failures counted", async (t) => {
  if (!requireRoot(t)) return;
  const setup = await inHost("rs1", [
    "sh",
    "-c",
    `ip addr add ${VIP}/32 dev lo && sysctl -qw net.ipv4.conf.all.arp_ignore=1 ` +
    "net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0",
  ]);
  assert.equal(setup.code, 0, setup.stderr);
  const server = spawnInNamespace({
    namespace: namespaceName(LAB, "rs1"),
    argv: [
      process.execPath,
      "--import",
      "tsx",
      path.join(REPO_ROOT, "realservers", "http-server.ts"),
      "--name",
      "rs1-dr",
      "--listen",
      `${VIP}:8080`,
    ],
    cwd: REPO_ROOT,
    logFile: path.join(lab.workDir, "rs1-dr.log"),
  });
  try {
    await waitUntilReady(
      server,
      () => fs.readFileSync(server.logFile, "utf8").includes(READY_LINES.httpServer),
      15_000,
      "rs1's VIP server",
      "print its ready line",
    );
    await ipvsadm("-A", "-t", `${VIP}:8080`, "-s", "rr");
    // No port with -g: ipvsadm gives a Route server the service's.
    await ipvsadm("-a", "-t", `${VIP}:8080`, "-r", "172.16.0.2", "-g");
    assert.match(await ipvsadm("-L", "-n"), /-> 172\.16\.0\.2:8080\s+Route\s+1/);
    const framesBefore = (await stats()).framesSent;
    for (let i = 0; i < 4; i++) {
      const r = await curl(8080);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /lvslab-server" content="rs1-dr"/);
    }
    const after = await stats();
    assert.ok(after.framesSent - framesBefore >= 4 * 4, `frames sent: ${after.framesSent}`);
    // The client's FIN moved each entry to FIN_WAIT with IPVS's 2 minutes (INPUT-ONLY table):
    // no reply ever reached the engine to make it CLOSE_WAIT or TIME_WAIT.
    const table = await ipvsadm("-L", "-n", "-c");
    const entries = table.split("\n").filter((l) => l.includes(`${VIP}:8080`));
    assert.equal(entries.length, 4, table);
    for (const e of entries) assert.match(e, /^TCP 0[12]:\d\d {2}FIN_WAIT /, e);
    const listing = await ipvsadm("-L", "-n", "--stats", "-t", `${VIP}:8080`);
    assert.match(listing, /-> 172\.16\.0\.2:8080\s+4\s+\d+\s+0\s+\d+\s+0/, "no outgoing packets");

    // A 20 MB upload: the client's TSO super-packets cross the director as single frames.
    const iperf = spawnInNamespace({
      namespace: namespaceName(LAB, "rs1"),
      argv: ["iperf3", "-s", "-1", "--forceflush", "-B", VIP, "-p", "5201"],
      cwd: REPO_ROOT,
      logFile: path.join(lab.workDir, "iperf3.log"),
    });
    try {
      await waitUntilReady(
        iperf,
        () => fs.readFileSync(iperf.logFile, "utf8").includes("Server listening"),
        10_000,
        "iperf3 on rs1",
        "listen",
      );
      await ipvsadm("-A", "-t", `${VIP}:5201`, "-s", "rr");
      await ipvsadm("-a", "-t", `${VIP}:5201`, "-r", "172.16.0.2", "-g");
      const before = await stats();
      const up = await inHost("client", ["iperf3", "-c", VIP, "-n", "20M", "-J"], 30_000);
      assert.equal(up.code, 0, up.stdout.slice(-400));
      // iperf3's receiver total stops when the sender's test ends, a little short of it.
      const { sum_sent: sent, sum_received: received } = JSON.parse(up.stdout).end;
      assert.ok(sent.bytes >= 20 * 1024 * 1024, `sent ${sent.bytes} bytes`);
      assert.ok(received.bytes >= 0.8 * sent.bytes, `rs1 received ${received.bytes} bytes`);
      const c = await stats();
      assert.ok(c.superPacketsRead - before.superPacketsRead > 10, "super-packets came in");
      assert.equal(c.frameSendErrors, 0, "the kernel took every frame");
    } finally {
      await iperf.stop();
    }

    // Nothing answers ARP for 172.16.0.77: the kernel declares it FAILED after ~3 s.
    await ipvsadm("-A", "-t", `${VIP}:8081`, "-s", "rr");
    await ipvsadm("-a", "-t", `${VIP}:8081`, "-r", "172.16.0.77", "-g");
    assert.notEqual((await curl(8081, 1)).code, 0);
    assert.ok(await dropsOf("neighbour-failed", 15_000, () => curl(8081, 1)) > 0);
    // 172.16.9.9 is on no network of the director (no route at all).
    await ipvsadm("-A", "-t", `${VIP}:8082`, "-s", "rr");
    await ipvsadm("-a", "-t", `${VIP}:8082`, "-r", "172.16.9.9", "-g");
    assert.notEqual((await curl(8082, 1)).code, 0);
    assert.ok(await dropsOf("neighbour-not-on-link", 5_000, () => curl(8082, 1)) > 0);
  } finally {
    await server.stop();
  }
});
