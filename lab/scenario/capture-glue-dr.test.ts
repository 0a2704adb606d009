// The capture half of a DR scenario: the router's client side, the director's LAN port and
// each real server's port read with the MACs saved beside them, judged by direct-routing
// and by distribution from the servers' own ports; the samples show the path by host.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { writePcap } from "../analysis/test-support.ts";
import { LINKTYPE_ETHERNET } from "../analysis/decode.ts";
import {
  DR_LINKS,
  drConnection,
  type DrConnectionSpec,
  mergeDrCaptures,
} from "../analysis/dr-test-support.ts";
import { writeHostLinks } from "../capture/host-links.ts";
import type { CaptureFile } from "../capture/capture.ts";
import { analyseCaptures } from "./capture-glue.ts";
import { parseScenario } from "./schema.ts";

const SCENARIO = `topology: dr
services:
  services:
    - protocol: tcp
      address: 203.0.113.5
      port: 80
      scheduler: wrr
      servers:
        - { address: 172.16.0.2, port: 80, weight: 1, method: route }
        - { address: 172.16.0.3, port: 80, weight: 2, method: route }
steps:
  - http: { id: web, connections: 30 }
assertions:
  - direct-routing: {}
  - distribution: { step: web, weights: { rs1: 1, rs2: 2 }, from: [capture] }
`;

async function judge(fault: Partial<DrConnectionSpec> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-glue-dr-"));
  try {
    // 30 connections in wrr's 1:2 order; the 5th carries the fault.
    const c = mergeDrCaptures(
      Array.from({ length: 30 }, (_, i) =>
        drConnection({
          clientPort: 41000 + i,
          server: i % 3 === 0 ? "rs1" : "rs2",
          t0: 10 + i * 0.01,
          ipId: 100 + i * 20,
          ...(i === 4 ? fault : {}),
        })),
    );
    writeHostLinks(dir, DR_LINKS);
    const files: CaptureFile[] = [
      ["lan", "director", c.lan],
      ["public", "router", c.public],
      ["rs1-eth0", "rs1", c.servers.rs1],
      ["rs2-eth0", "rs2", c.servers.rs2],
    ].map(([segment, host, records]) => {
      const file = path.join(dir, `${segment}.pcap`);
      writePcap(file, LINKTYPE_ETHERNET, records as typeof c.lan);
      return {
        segment: segment as string,
        host: host as string,
        device: "eth0",
        path: file,
        packetsCaptured: (records as typeof c.lan).length,
        droppedByKernel: 0,
      };
    });
    const scenario = parseScenario(SCENARIO, path.join(dir, "dr.yaml"));
    const window = {
      startedAt: 9000,
      endedAt: 11000,
      vip: "203.0.113.5",
      vport: 80,
      protocol: "tcp" as const,
    };
    return await analyseCaptures(scenario, files, new Map(), new Map([["web", window]]));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("a DR run's captures pass direct-routing and split 1:2 by the servers' own ports", async () => {
  const { results, samples } = await judge();
  const [dr, distribution] = results;
  assert.deepEqual(dr.map((r) => r.passed), [true, true, true], dr.map((r) => r.line).join("\n"));
  assert.ok(distribution[0].passed, distribution[0].line);
  assert.match(distribution[0].line, /rs1.*10.*rs2.*20|10.*20/);
  assert.match(
    samples[0],
    /^MACs on the LAN: router 02:00:00:00:02:fe, director 02:00:00:00:02:fd/,
  );
  assert.match(
    samples.join("\n"),
    /connection 1: client 198\.51\.100\.2:41000 -> VIP 203\.0\.113\.5:80 -> rs1/,
  );
  assert.match(
    samples.join("\n"),
    /before {2}MAC src router {3}dst director {2}SOURCE 198\.51\.100\.2:41000 DEST 203\.0\.113\.5:80 TTL 63/,
  );
  assert.match(samples.join("\n"), /after {3}MAC src director dst rs1 .*TTL 62/);
  assert.match(
    samples.join("\n"),
    /rs1->client {2}TCP S\. {2}\(rs1 -> router -> client, not through the director\)/,
  );
});

test("a DR run whose director sends a frame to the wrong server fails direct-routing", async () => {
  const { results } = await judge({
    tamper: (f, place, i) =>
      place === "left" && i === 3 ? { ...f, dstMac: "02:00:00:00:02:02" } : f,
  });
  assert.deepEqual(results[0].map((r) => r.passed), [true, false, true]);
});
