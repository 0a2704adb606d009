// VS/NAT over the link layer (--nat-transmit packet) through the real kernel, on the
// article's lab: HTTP split by wrr and an iperf3 upload and download cross the director in
// frames from its packet sockets (lvs-stats), the kernel forwarding each packet once (into
// the TUN device) instead of twice; tcpdump on both segments, with checksum offload off,
// shows the rewritten addresses, TTL = sender's − 1 and valid checksums; a client address
// the director has no neighbour entry for is answered through the TUN device (counted)
// until the director adopts the kernel's entry, then by frames. On rs1's segment the client's
// segments of each flow arrive in order.
//   Run three times (./nat-link.test.ts, ./nat-link-handoff.test.ts, ./nat-link-threads.test.ts):
// with --transmit auto on a light load the packet thread sends the frames itself; with
// --transmit always every frame is handed to the transmit worker, which sends it from packet
// sockets of its own; with --transmit-threads 2 as well, to two of them, each flow to one.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { execIn } from "../../lab/netns/lab.ts";
import { requireRoot } from "../../lab/testing/require-root.ts";
import { useLab } from "../../lab/testing/lab-fixture.ts";
import {
  type NamespaceProcess,
  spawnInNamespace,
  waitUntilReady,
} from "../../lab/netns/processes.ts";
import { namespaceName } from "../../lab/topology.ts";
import { REPO_ROOT } from "../../lab/paths.ts";
import { httpLoadFromClient } from "../../lab/testing/http-load.ts";
import { offloadArgv } from "../../lab/capture/offload.ts";

const VIP = "203.0.113.5";
const SECOND_CLIENT = "198.51.100.3";

export interface NatLinkSuiteOptions {
  /** The lab's name (one per test file). */
  lab: string;
  /** More lvslab-director options. */
  directorArgs: string[];
  /** Every frame is sent by the transmit worker (--transmit always): checked in lvs-stats. */
  handoff: boolean;
  /** Transmit threads the director runs (--transmit-threads; default 1): each must send. */
  transmitThreads?: number;
}

interface Counters {
  totals: { inpkts: number; outpkts: number };
  framesSent: number;
  frameSendErrors: number;
  superPacketsRead: number;
  natFramesQueued: number;
  natFallbacks: { noNextHop: number; neighbour: number; tooBig: number };
  writtenByPacketThread: number;
  writtenByTransmitWorker: number;
  framesSentByTransmitWorker: number;
  sentByTransmitThread: number[];
}

const fallbacks = (c: Counters) =>
  c.natFallbacks.noNextHop + c.natFallbacks.neighbour + c.natFallbacks.tooBig;

/** The suite's lab and what its tests ask of it. */
class NatLinkLab {
  /** iperf3 on rs1, for every test of the file (started by the first). */
  iperfServer: NamespaceProcess | null = null;

  constructor(
    readonly name: string,
    private readonly fixture: { readonly workDir: string },
    readonly handoff: boolean,
    readonly transmitThreads: number,
  ) {}

  /** The lab's work folder (made when the lab comes up, after the tests are declared). */
  get workDir(): string {
    return this.fixture.workDir;
  }

  async inHost(host: string, argv: string[], timeoutMs = 30_000): Promise<string> {
    const r = await execIn(host, argv, { name: this.name, timeoutMs });
    assert.equal(r.code, 0, `${host}: ${argv.join(" ")}: ${r.stderr || r.stdout.slice(-300)}`);
    return r.stdout;
  }

  async stats(): Promise<Counters> {
    return JSON.parse(await this.inHost("director", ["lvs-stats", "--json"]));
  }

  /** The director's kernel's forwarded-packet counter (Ip: ForwDatagrams). */
  async forwarded(): Promise<number> {
    const snmp = await this.inHost("director", ["cat", "/proc/net/snmp"]);
    const [names, values] = snmp.split("\n").filter((l) => l.startsWith("Ip:"));
    const i = names!.split(/\s+/).indexOf("ForwDatagrams");
    return Number(values!.split(/\s+/)[i]);
  }

  /** Runs `traffic` until it goes without a NAT packet written to the TUN device (15 s at most). */
  async untilNoFallbacks(traffic: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const was = fallbacks(await this.stats());
      await traffic();
      if (fallbacks(await this.stats()) === was) return;
      assert.ok(Date.now() < deadline, "NAT packets still go through the TUN device after 15 s");
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  async iperf(args: string[]): Promise<number> {
    const out = await this.inHost(
      "client",
      ["iperf3", "-c", VIP, "-p", "5201", "-J", ...args],
      60_000,
    );
    return JSON.parse(out).end.sum_received.bytes as number;
  }
}

/** The suite's tests, on their own lab. */
export function natLinkSuite(options: NatLinkSuiteOptions): void {
  const fixture = useLab(options.lab, {
    directorArgs: ["--nat-transmit", "packet", ...options.directorArgs],
  });
  const lab = new NatLinkLab(options.lab, fixture, options.handoff, options.transmitThreads ?? 1);
  after(async () => {
    await lab.iperfServer?.stop();
  });
  test("NAT over links: HTTP and bulk TCP leave by the packet sockets, the kernel forwards each packet once", async (t) => {
    if (requireRoot(t)) await bulkThroughLinks(lab);
  });
  test("NAT over links: on the wire, rewritten addresses, TTL = sender's − 1, checksums valid", async (t) => {
    if (requireRoot(t)) await onTheWire(lab);
  });
  test("NAT over links: a client the director has no neighbour entry for is answered through the TUN device, then by frames", async (t) => {
    if (requireRoot(t)) await unknownNeighbour(lab);
  });
}

/** HTTP and two iperf3 runs: frames from the packet sockets, one kernel forward per packet. */
async function bulkThroughLinks(lab: NatLinkLab): Promise<void> {
  const log = fs.readFileSync(`/run/lvslab/${lab.name}/director.log`, "utf8");
  assert.match(log, /nat-transmit packet/);
  const server = lab.iperfServer = spawnInNamespace({
    namespace: namespaceName(lab.name, "rs1"),
    argv: ["iperf3", "-s", "--forceflush", "-B", "172.16.0.2", "-p", "5201"],
    cwd: REPO_ROOT,
    logFile: path.join(lab.workDir, "iperf3.log"),
  });
  {
    await waitUntilReady(
      server,
      () => fs.readFileSync(server.logFile, "utf8").includes("Server listening"),
      15_000,
      "iperf3 on rs1",
      "listen",
    );
    await lab.inHost("director", [
      "ipvsadm",
      "-A",
      "-t",
      `${VIP}:5201`,
      "-s",
      "rr",
    ]);
    await lab.inHost("director", [
      "ipvsadm",
      "-a",
      "-t",
      `${VIP}:5201`,
      "-r",
      "172.16.0.2:5201",
      "-m",
    ]);

    // The next hops' MACs: the servers' are learnt by the kernel from the first packets,
    // which go through the TUN device, and adopted at the next refreshes.
    await lab.untilNoFallbacks(async () => {
      assert.equal((await httpLoadFromClient(lab.name, `http://${VIP}/`, 3, 1)).ok, 3);
    });
    const before = await lab.stats();
    const forwardedBefore = await lab.forwarded();
    const summary = await httpLoadFromClient(lab.name, `http://${VIP}/`, 60, 3);
    assert.equal(summary.ok, 60, JSON.stringify(summary.errors.slice(0, 3)));
    assert.deepEqual(summary.byServer, { rs1: 20, rs2: 40 }, "wrr 1:2");
    const up = await lab.iperf(["-t", "2", "-P", "2"]);
    const down = await lab.iperf(["-t", "2", "-R"]);
    assert.ok(up > 50e6 && down > 50e6, `only ${up} bytes up, ${down} down`);
    const after = await lab.stats();
    const packets = after.totals.inpkts + after.totals.outpkts -
      before.totals.inpkts - before.totals.outpkts;
    const frames = after.natFramesQueued - before.natFramesQueued;
    assert.ok(packets > 5000, `${packets} packets`);
    assert.ok(
      frames >= packets * 0.99,
      `${frames} of ${packets} packets left as frames; fallbacks ${
        JSON.stringify(after.natFallbacks)
      } (before ${JSON.stringify(before.natFallbacks)})`,
    );
    assert.ok(after.superPacketsRead - before.superPacketsRead > 100, "TSO super-packets");
    assert.equal(after.frameSendErrors, 0, "the kernel took every frame");
    const byTransmitWorker = after.framesSentByTransmitWorker - before.framesSentByTransmitWorker;
    if (lab.handoff) {
      assert.ok(
        byTransmitWorker >= frames * 0.99,
        `${byTransmitWorker} of ${frames} frames sent by the transmit worker`,
      );
    }
    // Several transmit threads: each sent its flows (the 60 HTTP connections hash over all).
    assert.equal(after.sentByTransmitThread.length, lab.transmitThreads);
    if (lab.transmitThreads > 1) {
      const each = after.sentByTransmitThread.map((n, k) => n - before.sentByTransmitThread[k]!);
      assert.ok(each.every((n) => n > 100), `frames and packets by transmit thread: ${each}`);
    }
    const written = after.writtenByPacketThread + after.writtenByTransmitWorker -
      before.writtenByPacketThread - before.writtenByTransmitWorker;
    assert.ok(written <= packets * 0.01, `${written} packets written to the TUN device`);
    // Into the TUN device is one forwarding; with the TUN write, out of it was another.
    const forwards = (await lab.forwarded()) - forwardedBefore;
    assert.ok(
      forwards < packets * 1.2,
      `the kernel forwarded ${forwards} packets for ${packets} the director handled`,
    );
  }
}

/** tcpdump on both segments: rewritten addresses, TTL, checksums, each flow in order. */
async function onTheWire(lab: NatLinkLab): Promise<void> {
  // Full checksums on the wire (no partial sums left for "hardware"), MTU-sized packets.
  for (
    const [host, dev] of [["client", "eth0"], ["director", "eth0"], ["director", "eth1"], [
      "rs1",
      "eth0",
    ], ["rs2", "eth0"]] as const
  ) {
    await lab.inHost(host, offloadArgv(dev));
  }
  const capture = (host: string, filter: string) => {
    const proc = spawnInNamespace({
      namespace: namespaceName(lab.name, host),
      argv: ["tcpdump", "-l", "-n", "-vv", "-i", "eth0", filter],
      cwd: REPO_ROOT,
      logFile: path.join(lab.workDir, `${host}.tcpdump`),
    });
    return proc;
  };
  const onClient = capture("client", `tcp and host ${VIP}`);
  const onServer = capture("rs1", "tcp port 80 or tcp port 5201");
  try {
    for (const p of [onClient, onServer]) {
      await waitUntilReady(
        p,
        () => fs.readFileSync(p.logFile, "utf8").includes("listening on"),
        10_000,
        "tcpdump",
        "listen",
      );
    }
    const summary = await httpLoadFromClient(lab.name, `http://${VIP}/`, 6, 1);
    assert.equal(summary.ok, 6);
    await lab.iperf(["-n", "2M"]);
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    await onClient.stop();
    await onServer.stop();
  }
  // tcpdump -vv: "IP (tos 0x0, ttl 63, ... proto TCP (6), length 60)\n    a.b > c.d: Flags [S],
  // cksum 0x1234 (correct), ..."
  const packets = (host: string) => {
    const text = fs.readFileSync(path.join(lab.workDir, `${host}.tcpdump`), "utf8");
    return [...text.matchAll(/IP \(tos \S+, ttl (\d+),.*\n\s+(\S+) > (\S+): (.*)/g)].map((m) => ({
      ttl: Number(m[1]),
      src: m[2]!,
      dst: m[3]!,
      rest: m[4]!,
    }));
  };
  const fromVip = packets("client").filter((p) => p.src.startsWith(`${VIP}.`));
  const toServer = packets("rs1").filter((p) => p.src.startsWith("198.51.100.2."));
  assert.ok(
    fromVip.length > 20,
    `${fromVip.length} packets from the VIP on the client's segment`,
  );
  assert.ok(toServer.length > 20, `${toServer.length} client packets on rs1's segment`);
  for (const p of [...fromVip, ...toServer]) {
    assert.equal(p.ttl, 63, `64 − 1: ${JSON.stringify(p)}`);
    assert.match(p.rest, /cksum 0x[0-9a-f]+ \(correct\)/, JSON.stringify(p));
  }
  assert.ok(toServer.every((p) => /^172\.16\.0\.2\.(80|5201)$/.test(p.dst)), "rewritten to rs1");
  assert.ok(
    fromVip.every((p) => p.dst.startsWith("198.51.100.2.")),
    "rewritten from the VIP to the client",
  );
  // Each flow's data segments in order on rs1's segment (relative sequence numbers): one that
  // starts past the highest end seen so far left a gap, which a reordering makes (a
  // retransmission, which a loaded machine's TCP may send, starts below it: allowed).
  const flowEnd = new Map<string, number>();
  let segments = 0;
  for (const p of toServer) {
    const seq = /seq (\d+):(\d+)/.exec(p.rest);
    if (seq === null) continue;
    segments++;
    const flow = `${p.src}>${p.dst}`;
    const end = flowEnd.get(flow);
    assert.ok(end === undefined || Number(seq[1]) <= end, `out of order: ${JSON.stringify(p)}`);
    flowEnd.set(flow, Math.max(end ?? 0, Number(seq[2])));
  }
  assert.ok(segments > 20, `${segments} data segments to rs1`);
  const c = await lab.stats();
  assert.ok(c.natFramesQueued > 0);
}

/** A client with no neighbour entry: through the TUN device (counted), then by frames. */
async function unknownNeighbour(lab: NatLinkLab): Promise<void> {
  await lab.inHost("client", ["ip", "addr", "add", `${SECOND_CLIENT}/24`, "dev", "eth0"]);
  await execIn("director", ["ip", "neigh", "del", SECOND_CLIENT, "dev", "eth0"], {
    name: lab.name,
  });
  const curl = () =>
    lab.inHost("client", [
      "curl",
      "-s",
      "-S",
      "-m",
      "5",
      "--interface",
      SECOND_CLIENT,
      `http://${VIP}/`,
    ]);
  const before = await lab.stats();
  assert.match(await curl(), /lvslab-server/);
  const first = await lab.stats();
  assert.ok(
    first.natFallbacks.noNextHop > before.natFallbacks.noNextHop,
    `replies to ${SECOND_CLIENT} went back into the TUN device: ${
      JSON.stringify(first.natFallbacks)
    }`,
  );
  // The kernel resolved it forwarding those; the next refreshes adopt its entry.
  await lab.untilNoFallbacks(async () => {
    assert.match(await curl(), /lvslab-server/);
  });
}
