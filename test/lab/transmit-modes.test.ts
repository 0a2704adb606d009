// The director's two other ways of writing packets back (director/engine/transmit-ring.ts):
// every packet through the transmit thread (--transmit always) and none (--transmit off, here
// with the kernel's receive steering on the TUN device, --rps-cpus), on real traffic: HTTP
// connections split by the scheduler and a 4-stream bulk transfer, with no failed write, and
// lvs-stats' per-thread write counters showing that every packet went through the thread the
// mode names; with two transmit threads (--transmit-threads 2), that both wrote their share
// of the flows. The lab's default (auto, one transmit thread, no steering) is what every other
// lab test runs.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execIn, labDown, labUp } from "../../lab/netns/lab.ts";
import { labTestBlocker, requireRoot } from "../../lab/testing/require-root.ts";
import { namespaceName } from "../../lab/topology.ts";
import { startInNamespace } from "../../lab/netns/processes.ts";
import { httpLoadFromClient } from "../../lab/testing/http-load.ts";

const LAB = "lvstxm";
const VIP = "203.0.113.5";
const SERVICES = `
services:
  - { protocol: tcp, address: ${VIP}, port: 80, scheduler: rr, servers: [
      { address: 172.16.0.2, port: 80 }, { address: 172.16.0.3, port: 8000 } ] }
  - { protocol: tcp, address: ${VIP}, port: 5201, scheduler: rr, servers: [{ address: 172.16.0.2, port: 5201 }] }
`;

const canRun = labTestBlocker() === null;

after(async () => {
  if (canRun) await labDown(LAB);
});

async function inHost(host: string, argv: string[]) {
  return await execIn(host, argv, { name: LAB, timeoutMs: 60_000 });
}

const CASES = [
  { mode: "always", extra: [] },
  { mode: "always", extra: ["--transmit-threads", "2"] },
  { mode: "off", extra: ["--rps-cpus", "3"] },
];

for (const { mode, extra } of CASES) {
  const options = ["--transmit", mode, ...extra].join(" ");
  test(`${options}: HTTP split by rr and a 4-stream iperf3 transfer through the VIP`, async (t) => {
    if (!requireRoot(t)) return;
    await labDown(LAB);
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-transmit-"));
    const config = path.join(workDir, "services.yaml");
    fs.writeFileSync(config, SERVICES);
    await labUp({ name: LAB, config, directorArgs: ["--transmit", mode, ...extra] });
    await startInNamespace({
      namespace: namespaceName(LAB, "rs1"),
      argv: ["iperf3", "-s", "--forceflush", "-B", "172.16.0.2", "-p", "5201"],
      cwd: process.cwd(),
      logFile: path.join(workDir, "iperf3.log"),
      readyText: "Server listening",
      readyTimeoutMs: 15_000,
      what: "iperf3 on rs1",
    });
    const log = fs.readFileSync(`/run/lvslab/${LAB}/director.log`, "utf8");
    assert.match(log, new RegExp(`transmit ${mode}`));
    const threads = extra.includes("--transmit-threads") ? 2 : mode === "off" ? 0 : 1;
    if (threads > 0) assert.match(log, new RegExp(`transmit ${mode} \\(${threads} thread`));
    if (extra.includes("--rps-cpus")) {
      const rps = await inHost("director", ["cat", "/sys/class/net/lvs0/queues/rx-0/rps_cpus"]);
      assert.equal(parseInt(rps.stdout.replaceAll(",", ""), 16), 3, `rps_cpus: ${rps.stdout}`);
    }

    const summary = await httpLoadFromClient(LAB, `http://${VIP}/`, 100, 4);
    assert.equal(summary.ok, 100, JSON.stringify(summary.errors.slice(0, 3)));
    assert.deepEqual(summary.byServer, { rs1: 50, rs2: 50 });

    const bulk = await inHost("client", [
      "iperf3",
      "-c",
      VIP,
      "-p",
      "5201",
      "-t",
      "2",
      "-P",
      "4",
      "-J",
    ]);
    assert.equal(bulk.code, 0, bulk.stderr || bulk.stdout.slice(0, 500));
    const received = JSON.parse(bulk.stdout).end.sum_received.bytes as number;
    assert.ok(received > 50 * 1024 * 1024, `only ${received} bytes crossed`);

    const stats = await inHost("director", ["lvs-stats", "--json"]);
    assert.equal(stats.code, 0, stats.stderr);
    const counters = JSON.parse(stats.stdout);
    assert.equal(counters.writeErrors, 0, "failed writes to the TUN device");
    assert.ok(counters.totals.inpkts > 10_000, `${counters.totals.inpkts} packets in`);
    // Which thread wrote them: always, the transmit thread, every one; off, the packet thread.
    const [worker, own] = mode === "always"
      ? [counters.writtenByTransmitWorker, counters.writtenByPacketThread]
      : [counters.writtenByPacketThread, counters.writtenByTransmitWorker];
    assert.equal(own, 0, `--transmit ${mode}: the other thread wrote ${own} packets`);
    assert.ok(worker > 10_000, `--transmit ${mode}: only ${worker} packets written by its thread`);
    // Each transmit thread its own Linux thread, and each wrote flows of its own (HTTP's 100
    // connections hash over both, whatever the 4 iperf3 streams did).
    const ids = counters.transmitThreadIds as number[];
    assert.equal(ids.length, threads, `transmit thread ids ${JSON.stringify(ids)}`);
    assert.equal(new Set(ids.filter((id) => id > 0)).size, threads, `ids ${JSON.stringify(ids)}`);
    const sent = counters.sentByTransmitThread as number[];
    if (threads === 2) {
      assert.ok(sent.every((n) => n > 200), `packets by transmit thread: ${sent.join(", ")}`);
      assert.equal(sent[0]! + sent[1]!, counters.writtenByTransmitWorker);
    }
    await labDown(LAB);
  });
}
