import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  buildIpv4,
  decodeRecords,
  ethernetFrame,
  natConnection,
  type PacketSpec,
  writePcap,
} from "../analysis/test-support.ts";
import { LINKTYPE_ETHERNET } from "../analysis/decode.ts";
import { matchTwins } from "../analysis/twins.ts";
import { analyseCaptures, capturesCompleteCheck } from "./capture-glue.ts";
import { hasPayloadHelper, withoutOtherPorts } from "./assertions/capture-context.ts";
import { parseScenario } from "./schema.ts";

const SERVICE = {
  protocol: "tcp" as const,
  vip: "203.0.113.5",
  port: 80,
  servers: ["172.16.0.2:80"],
};

function pkt(spec: Partial<PacketSpec> & Pick<PacketSpec, "src" | "dst">, t: number) {
  return { time: t, data: ethernetFrame(buildIpv4({ protocol: "tcp", flags: "S", ...spec })) };
}

test("replies from another VIP port are set aside only where the client spoke first", () => {
  const c = "198.51.100.2";
  const vip = "203.0.113.5";
  const packets = decodeRecords([
    // The client reused port 40000 for VIP:8080 (refused): that reset is not VIP:80's.
    pkt({ src: c, srcPort: 40000, dst: vip, dstPort: 80 }, 1),
    pkt({ src: vip, srcPort: 80, dst: c, dstPort: 40000, flags: "S." }, 1.001),
    pkt({ src: c, srcPort: 40000, dst: vip, dstPort: 8080 }, 2),
    pkt({ src: vip, srcPort: 8080, dst: c, dstPort: 40000, flags: "R." }, 2.001),
    // A reply from VIP:8000 the client never called (an unrewritten port) stays.
    pkt({ src: c, srcPort: 40001, dst: vip, dstPort: 80 }, 3),
    pkt({ src: vip, srcPort: 8000, dst: c, dstPort: 40001, flags: "S." }, 3.001),
    pkt({ src: c, srcPort: 40001, dst: vip, dstPort: 8000, flags: "R" }, 3.002),
  ]);
  const kept = withoutOtherPorts(packets, SERVICE).map((p) => `${p.srcPort}>${p.dstPort}`);
  assert.deepEqual(kept, [
    "40000>80",
    "80>40000",
    "40000>8080",
    "40001>80",
    "8000>40001",
    "40001>8000",
  ]);
  assert.equal(hasPayloadHelper({ ...SERVICE, port: 21 }), true);
  assert.equal(hasPayloadHelper(SERVICE), false);
  assert.equal(hasPayloadHelper({ ...SERVICE, protocol: "udp", port: 21 }), false);
});

const PRIVATE_227 = "227 Entering Passive Mode (172,16,0,3,117,100).\r\n";
const PUBLIC_227 = "227 Entering Passive Mode (203,0,113,5,117,100).\r\n";

/** A control connection whose 227 reply the director made one byte longer (seq shifted after). */
function ftpControl(rewrite: boolean) {
  return natConnection({
    client: "198.51.100.2",
    clientPort: 40100,
    vip: "203.0.113.5",
    vport: 21,
    server: "172.16.0.3",
    serverPort: 21,
    t0: 10,
    request: "PASV\r\n",
    response: PRIVATE_227,
    tamper: (spec, segment, i) => {
      if (segment !== "public") return spec;
      // 4: the reply; 5 and 7: the client's acks of it; 6: the server's FIN after it.
      if (i === 4) return { ...spec, payload: rewrite ? PUBLIC_227 : PRIVATE_227 };
      if (!rewrite) return spec;
      if (i === 5 || i === 7) return { ...spec, ack: (spec.ack ?? 0) + 1 };
      if (i === 6) return { ...spec, seq: (spec.seq ?? 0) + 1 };
      return spec;
    },
  });
}

const FTP_SCENARIO = `
services:
  services:
    - protocol: tcp
      address: 203.0.113.5
      port: 21
      scheduler: wlc
      servers:
        - { address: 172.16.0.3, port: 21, weight: 1 }
steps:
  - probe: { id: p, vport: 21 }
assertions:
  - rewrite: {}
  - payload: { segment: public, port: 21, present: ["227 Entering Passive Mode (203,0,113,5,"], absent: ["172,16,0,3"] }
  - payload: { segment: private, present: ["(172,16,0,3,"], absent: ["(203,0,113,5,"] }
`;

async function judge(rewrite: boolean) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-glue-test-"));
  try {
    const conv = ftpControl(rewrite);
    const files = (["public", "private"] as const).map((segment) => {
      const file = path.join(dir, `${segment}.pcap`);
      writePcap(file, LINKTYPE_ETHERNET, conv[segment]);
      return {
        segment,
        host: "director",
        device: segment === "public" ? "eth0" : "eth1",
        path: file,
        packetsCaptured: conv[segment].length,
        droppedByKernel: 0,
      };
    });
    const scenario = parseScenario(FTP_SCENARIO, path.join(dir, "ftp.yaml"));
    return await analyseCaptures(scenario, files, new Map(), new Map());
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("FTP control connections: twins match loosely across the rewrite; payload checks read both sides", async () => {
  const conv = ftpControl(true);
  const strict = matchTwins(decodeRecords(conv.public), decodeRecords(conv.private), {
    vip: "203.0.113.5",
  });
  assert.ok(strict.unmatchedPublic.length >= 4, "strict matching loses the rewritten packets");

  const { results } = await judge(true);
  const [rewrite, pub, priv] = results;
  const twins = rewrite.find((r) => r.name.startsWith("every packet of 203.0.113.5:21"));
  assert.ok(twins, rewrite.map((r) => r.name).join("; "));
  assert.equal(twins.passed, true, twins.line);
  assert.match(twins.line, /lengths and sequence numbers differ where the FTP helper rewrote/);
  assert.ok(rewrite.every((r) => r.passed), rewrite.map((r) => r.line).join("\n"));
  assert.deepEqual(pub.map((r) => r.passed), [true, true]);
  assert.deepEqual(priv.map((r) => r.passed), [true, true]);

  // Without the rewrite the private address reaches the client: both sides say so.
  const leaked = await judge(false);
  assert.deepEqual(leaked.results[1].map((r) => r.passed), [false, false]);
  assert.match(
    leaked.results[1][1].line,
    /1 packet on the client network \(port 21\) carries '172,16,0,3'/,
  );
});

const HTTP_SCENARIO = (capture: string) => `
capture: ${capture}
services:
  services:
    - protocol: tcp
      address: 203.0.113.5
      port: 80
      scheduler: rr
      servers: [{ address: 172.16.0.2, port: 80 }]
steps:
  - probe: { id: p, vport: 80 }
assertions:
  - rewrite: {}
`;

/**
 * One HTTP connection through the director whose private capture misses one packet (the
 * server's answer), with tcpdump reporting `lost` packets dropped on the private network.
 */
async function judgeLossy(capture: string, lost: number | null) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-glue-test-"));
  try {
    const conv = natConnection({
      client: "198.51.100.2",
      clientPort: 40200,
      vip: "203.0.113.5",
      vport: 80,
      server: "172.16.0.2",
      serverPort: 80,
      t0: 10,
    });
    // 0 SYN, 1 SYN-ACK, 2 ACK, 3 request, 4 the answer: tcpdump lost it on the private side.
    const frames = { public: conv.public, private: conv.private.filter((_, i) => i !== 4) };
    const files = (["public", "private"] as const).map((segment) => {
      const file = path.join(dir, `${segment}.pcap`);
      writePcap(file, LINKTYPE_ETHERNET, frames[segment]);
      return {
        segment,
        host: "director",
        device: segment === "public" ? "eth0" : "eth1",
        path: file,
        packetsCaptured: frames[segment].length,
        droppedByKernel: segment === "private" ? lost : 0,
      };
    });
    const scenario = parseScenario(HTTP_SCENARIO(capture), path.join(dir, "lossy.yaml"));
    const { results } = await analyseCaptures(scenario, files, new Map(), new Map());
    const twins = results[0].find((r) => r.name.startsWith("every packet of 203.0.113.5:80"));
    assert.ok(twins, results[0].map((r) => r.name).join("; "));
    return { scenario, twins, complete: capturesCompleteCheck(files) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("twins excused by capture loss pass labelled as such, with the count", async () => {
  const { scenario, twins } = await judgeLossy("true", 1);
  assert.equal(scenario.captureComplete, false);
  assert.equal(twins.passed, true, twins.line);
  assert.match(twins.line, /^PASS: passed with 1 packet excused by capture loss: /);
  assert.match(twins.line, /no more than the 1 packet tcpdump lost/);
  assert.equal(twins.excusedByCaptureLoss, 1);
  assert.equal(twins.data.excusedByCaptureLoss, 1);
  // The verdict it would have had is kept in the details.
  assert.match(
    twins.details[0],
    /^FAIL: 1 of 8 packets of 203\.0\.113\.5:80 on the client network have no twin/,
  );
  // Without reported loss the same capture fails.
  const honest = await judgeLossy("true", 0);
  assert.equal(honest.twins.passed, false);
  assert.equal(honest.twins.excusedByCaptureLoss, undefined);
});

test("capture: { complete: true }: loss excuses nothing and fails the run", async () => {
  const { scenario, twins, complete } = await judgeLossy("{ complete: true }", 1);
  assert.equal(scenario.captureComplete, true);
  assert.equal(twins.passed, false, twins.line);
  assert.equal(twins.excusedByCaptureLoss, undefined);
  assert.equal(complete.passed, false);
  assert.match(complete.line, /^FAIL: the captures lost packets \(1 on private\)/);
  // Counts tcpdump did not give cannot show a capture complete either.
  const unknown = await judgeLossy("{ complete: true }", null);
  assert.equal(unknown.complete.passed, false);
  assert.match(unknown.complete.line, /tcpdump gave no counts for private/);
});
