// `lvslab demo`: bring the article's lab up if needed, capture while sending requests to the
// VIP, show which real server answered each, every packet before and after the director in the
// article's SOURCE/DEST form, and the director's connection table; leaves the lab up.
// `--method dr`: the same on the DR lab, each frame before and after the director with its
// MACs and TTL, and each reply straight from its real server to the router. `--method tun`:
// each client packet before the director and the tunnel packet after it, outer and inner
// headers, and each reply straight from its real server.
import { Command } from "commander";
import path from "node:path";
import type { Topology } from "../topology.ts";
import type { CaptureFile } from "../capture/capture.ts";
import { repliesBypassDirector, tunnelsToServers } from "../capture/segments.ts";
import { topologyNamed } from "../topologies/index.ts";
import type { LabBackend } from "../backend.ts";
import type { LoadSummary } from "../../clients/http-load.ts";
import { runAction } from "./run-action.ts";
import {
  labBackend,
  labFlags,
  type LabOptions,
  selectedTopology,
  withLabOptions,
} from "./backend-option.ts";
import { type CaptureSession, startCaptures } from "../scenario/capture-glue.ts";
import { pairsFromPcaps } from "../scenario/packet-pairs.ts";
import { drPairsFromCaptures } from "../scenario/dr-pairs.ts";
import { tunPairsFromCaptures } from "../scenario/tun-pairs.ts";
import { defaultArtifactsDir } from "../scenario/runner.ts";
import { ensureLabUp } from "./lab-ready.ts";

/** Runs the HTTP client in the client host: its request lines printed, its summary parsed. */
async function runClient(
  backend: LabBackend,
  args: string[],
  timeoutMs: number,
): Promise<LoadSummary> {
  const argv = backend.program("clients/http-client.ts", args);
  const r = await backend.exec("client", argv, { timeoutMs });
  // The client writes request lines to stderr under --json.
  if (r.stderr.trim()) console.log(r.stderr.trimEnd());
  try {
    return JSON.parse(r.stdout.trim().split("\n").pop() ?? "") as LoadSummary;
  } catch {
    throw new Error(`the HTTP client gave no summary (output: ${r.stdout.trim() || "none"})`);
  }
}

/** "TCP  203.0.113.5:80 wrr" and its real servers, from the director's ipvsadm -L -n. */
async function serviceListing(backend: LabBackend, vip: string): Promise<string | null> {
  const r = await backend.exec("director", ["ipvsadm", "-L", "-n", "-t", `${vip}:80`], {
    timeoutMs: 30_000,
  });
  return r.code === 0 ? r.stdout.trimEnd() : null;
}

/** Every packet before and after the director: NAT's twins, DR's frames, TUN's tunnels. */
async function packetLines(files: CaptureFile[], topology: Topology): Promise<string[]> {
  if (tunnelsToServers(topology)) {
    return [
      "\nEvery packet before and after the director (VS/TUN: the client's packet, TTL one less, " +
      "inside an outer header from the director to the real server; replies go from the real " +
      "server to the router, not through the director):",
      ...await tunPairsFromCaptures(files, topology),
    ];
  }
  if (repliesBypassDirector(topology)) {
    return [
      "\nEvery packet before and after the director (VS/DR: the same IP packet, TTL one less, " +
      "in a frame to the real server's MAC; replies go from the real server to the router, " +
      "not through the director):",
      ...await drPairsFromCaptures(files, topology),
    ];
  }
  const pub = files.find((f) => f.segment === "public");
  const priv = files.find((f) => f.segment === "private");
  if (!pub || !priv) return [];
  return [
    "\nEvery packet before and after the director (the article's SOURCE/DEST form):",
    ...await pairsFromPcaps(pub.path, priv.path, topology.vip),
  ];
}

export function demoCommand(): Command {
  return withLabOptions(
    new Command("demo")
      .description("bring the lab up if needed, send HTTP requests to the VIP, show who answered")
      .option("--count <n>", "number of requests (1-1000)", (v) => Number(v), 6)
      .option("--artifacts <dir>", "where the pcaps go (default artifacts/<time>-demo)")
      .option("--no-capture", "do not capture (no packet pairs)"),
  ).action(
    runAction(
      async (opts: LabOptions & { count: number; artifacts?: string; capture: boolean }) => {
        if (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > 1000) {
          throw new Error("--count must be a whole number from 1 to 1000");
        }
        const backend = labBackend(opts);
        const topologyName = selectedTopology(opts);
        const topology = topologyNamed(topologyName);
        await ensureLabUp(backend, topologyName);
        const url = `http://${topology.vip}/`;
        console.log(
          `\nclient 198.51.100.2 -> ${url}, ${opts.count} requests, one new connection each:`,
        );
        const timeoutMs = 3000;
        const dir = opts.artifacts ? path.resolve(opts.artifacts) : `${defaultArtifactsDir()}-demo`;
        let capture: CaptureSession | null = null;
        if (opts.capture) {
          try {
            capture = await startCaptures(backend, topology, dir, (l) => console.log(l.trim()));
          } catch (err) {
            console.log(`warning: no capture, so no packet pairs: ${(err as Error).message}`);
          }
        }
        const summary = await runClient(
          backend,
          [
            "--url",
            url,
            "--count",
            String(opts.count),
            "--timeout-ms",
            String(timeoutMs),
            "--json",
          ],
          opts.count * timeoutMs + 30_000,
        );
        console.log("");
        const answered = Object.entries(summary.byServerAddress)
          .map(([s, n]) => `${s}: ${n}`).join(", ");
        console.log(
          `${summary.total} requests, ${summary.ok} answered (${answered || "none"}), ` +
            `${summary.failed} failed`,
        );
        for (const e of summary.errors.slice(0, 5)) console.log(`  ${e}`);
        const listing = await serviceListing(backend, topology.vip);
        if (listing) console.log(`\nThe director's service table (ipvsadm -L -n):\n${listing}`);
        if (capture) {
          const files = await capture.stop();
          for (const l of await packetLines(files, topology)) console.log(l);
          console.log(`\npcaps (open them in Wireshark): ${files.map((f) => f.path).join(" ")}`);
        }
        const table = await backend.exec("director", ["ipvsadm", "-L", "-n", "-c"], {
          timeoutMs: 30_000,
        });
        console.log("\nThe director's connection table (ipvsadm -L -n -c in the director host):");
        process.stdout.write(
          table.code === 0 ? table.stdout : `(ipvsadm failed: ${table.stderr.trim()})\n`,
        );
        console.log(
          `\nThe lab is still up. Look around with 'lvslab status${
            labFlags(backend, topologyName)
          }' or ` +
            `'lvslab exec${labFlags(backend, topologyName)} client -- curl -s ${url}'.\n` +
            `Take it down with: lvslab down${labFlags(backend, topologyName)}`,
        );
        return summary.failed === 0 ? 0 : 1;
      },
    ),
  );
}
