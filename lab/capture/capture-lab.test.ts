// Captures on a real lab run: the netns lab with the article's service table, 30 HTTP
// requests through the VIP, tcpdump on the director's public and private interfaces and its
// TUN device, then the assertion library over the pcaps.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { labDown, labUp } from "../netns/lab.ts";
import { labTestBlocker, requireRoot } from "../testing/require-root.ts";
import { defaultTopology } from "../topology.ts";
import type { LoadSummary } from "../../clients/http-load.ts";
import { captureSegments } from "./segments.ts";
import { disableChecksumOffload } from "./offload.ts";
import { type CaptureFile, startCaptures } from "./capture.ts";
import { NetnsBackend } from "../netns/netns-backend.ts";
import { type Capture, readPcap } from "../analysis/read-pcap.ts";
import { groupConnections } from "../analysis/connections.ts";
import { matchTwins, type TwinResult } from "../analysis/twins.ts";
import { formatPair } from "../analysis/format.ts";
import type { AssertionResult } from "../assertions/result.ts";
import { assertChecksums } from "../assertions/checksums.ts";
import { assertCapturesComplete } from "../assertions/capture.ts";
import {
  assertNoPrivateAddresses,
  assertPrivateRewrite,
  assertRepliesFromVip,
  assertTwinsMatched,
} from "../assertions/rewrite.ts";
import {
  assertDistribution,
  countConnectionsByServer,
  countsFromAttribution,
} from "../assertions/distribution.ts";
import { assertOneServerPerConnection, assertOutcomes } from "../assertions/connections.ts";
import type { ServiceSpec } from "../assertions/service.ts";

const LAB = "lvscap";
const REQUESTS = 30;
const SERVICE: ServiceSpec = {
  protocol: "tcp",
  vip: "203.0.113.5",
  port: 80,
  servers: ["172.16.0.2:80", "172.16.0.3:8000"],
};
const WEIGHTS = { "172.16.0.2:80": 1, "172.16.0.3:8000": 2 };

const canRun = labTestBlocker() === null;
let artifacts = "";
let files: CaptureFile[] = [];
let summary: LoadSummary;
const captures: Record<string, Capture> = {};
let twins: TwinResult;

function check(r: AssertionResult): void {
  console.log(`  ${r.line}`);
  assert.equal(r.passed, true, [r.line, ...r.details].join("\n"));
}

before(async () => {
  if (!canRun) return;
  await labDown(LAB);
  artifacts = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-capture-lab-"));
  const topology = defaultTopology();
  const backend = new NetnsBackend(LAB);
  await labUp({ name: LAB, topology });
  await disableChecksumOffload(backend, topology);
  const handle = await startCaptures(backend, captureSegments(topology), artifacts);
  try {
    const r = await backend.exec("client", [
      ...backend.program("clients/http-client.ts", [
        "--url",
        `http://${SERVICE.vip}/`,
        "--count",
        String(REQUESTS),
        "--concurrency",
        "3",
        "--json",
        "--quiet",
      ]),
    ], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    summary = JSON.parse(r.stdout) as LoadSummary;
  } finally {
    files = await handle.stop();
  }
  for (const f of files) captures[f.segment] = await readPcap(f.path);
  twins = matchTwins(captures.public.packets, captures.private.packets, { vip: SERVICE.vip });
  console.log(`  pcaps in ${artifacts}`);
});

after(async () => {
  if (!canRun) return;
  await labDown(LAB);
  if (artifacts && process.env.LVSLAB_KEEP_ARTIFACTS !== "1") {
    fs.rmSync(artifacts, { recursive: true, force: true });
  }
});

test("three pcap files, one per segment, all answered requests", (t) => {
  if (!requireRoot(t)) return;
  assert.deepEqual(files.map((f) => f.segment), ["public", "private", "tun"]);
  for (const f of files) assert.equal(path.basename(f.path), `${f.segment}.pcap`);
  check(assertCapturesComplete(files));
  assert.equal(captures.public.linkType, 1, "Ethernet on veths");
  assert.equal(captures.tun.linkType, 101, "raw IP on the TUN device");
  assert.equal(summary.ok, REQUESTS, JSON.stringify(summary.errors.slice(0, 3)));
  // At least SYN, SYN-ACK, ACK, request, response, FIN x2, ACK per connection on each side.
  for (const seg of ["public", "private"]) {
    assert.ok(captures[seg].packets.length >= REQUESTS * 7, `${seg}: too few packets`);
  }
});

test("every packet on all three segments has correct IP and L4 checksums", (t) => {
  if (!requireRoot(t)) return;
  check(assertChecksums(captures.public.packets, "client network"));
  check(assertChecksums(captures.private.packets, "private network"));
  check(assertChecksums(captures.tun.packets, "director's TUN device"));
});

test("no private address on the client network; replies come from VIP:80", (t) => {
  if (!requireRoot(t)) return;
  check(assertNoPrivateAddresses(captures.public.packets));
  check(assertRepliesFromVip(captures.public.packets, SERVICE));
  check(assertPrivateRewrite(captures.private.packets, captures.public.packets, SERVICE));
});

test("every public TCP packet of the VIP has its twin on the private network", (t) => {
  if (!requireRoot(t)) return;
  check(assertTwinsMatched(twins, SERVICE));
  const syn = twins.pairs.find((p) =>
    p.direction === "to-server" && p.public.tcp?.flagText === "S"
  )!;
  const synAck = twins.pairs.find((p) =>
    p.direction === "to-client" && p.public.tcp?.flagText === "S."
  )!;
  console.log(formatPair(syn));
  console.log(formatPair(synAck));
  assert.equal(syn.after.src, syn.before.src);
  assert.equal(syn.after.srcPort, syn.before.srcPort);
  assert.equal(synAck.after.src, SERVICE.vip);
});

test("the split is 1:2 both in the private capture and in the client's attribution", (t) => {
  if (!requireRoot(t)) return;
  const conns = groupConnections(captures.private.packets);
  const fromCapture = countConnectionsByServer(conns, {
    protocol: "tcp",
    servers: SERVICE.servers,
  });
  check(assertDistribution({
    counts: fromCapture,
    weights: WEIGHTS,
    what: "connections to 203.0.113.5:80 in the private capture",
    tolerance: 0.05,
  }));
  check(assertDistribution({
    counts: countsFromAttribution(summary.byServerAddress),
    weights: WEIGHTS,
    what: "answers attributed by the client",
    tolerance: 0.05,
  }));
  assert.deepEqual(fromCapture, countsFromAttribution(summary.byServerAddress));
  check(assertOneServerPerConnection(captures.private.packets, SERVICE));
  check(assertOutcomes(groupConnections(captures.public.packets), {
    protocol: "tcp",
    vip: SERVICE.vip,
    port: 80,
    expected: { accepted: REQUESTS, refused: 0, dropped: 0 },
  }));
});
