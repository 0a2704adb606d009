// `lvslab demo`: bring the article's lab up if needed, capture while sending requests to the
// VIP, show which real server answered each, every packet before and after the director in the
// article's SOURCE/DEST form, and the director's connection table; leaves the lab up.
import { spawn } from "node:child_process";
import { Command } from "commander";
import { isLabUp, labStatus, labUp, repoProgram, requireRoot } from "../lab.ts";
import { DEFAULT_LAB_NAME, defaultTopology, namespaceName } from "../topology.ts";
import type { LoadSummary } from "../../clients/http-load.ts";
import { loadDirectorConfig } from "../../director/config/service-config.ts";
import { runAction } from "./run-action.ts";
import { NetnsBackend } from "../netns/netns-backend.ts";
import { type CaptureSession, startCaptures } from "../scenario/capture-glue.ts";
import { pairsFromPcaps } from "../scenario/packet-pairs.ts";
import { defaultArtifactsDir } from "../scenario/runner.ts";
import path from "node:path";
import { netnsExec } from "../netns/command.ts";

/** Runs the HTTP client in the client host: request lines to our stdout, summary parsed. */
function runClient(ns: string, args: string[], timeoutMs: number): Promise<LoadSummary> {
  return new Promise((resolve, reject) => {
    const [command, ...argv] = netnsExec(ns, repoProgram("clients/http-client.ts", args));
    const child = spawn(command, argv, { stdio: ["ignore", "pipe", "pipe"] });
    // The client writes request lines to stderr under --json; show them in order on stdout.
    child.stderr.pipe(process.stdout, { end: false });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.trim().split("\n").pop() ?? "") as LoadSummary);
      } catch {
        reject(new Error(`the HTTP client gave no summary (output: ${out.trim() || "none"})`));
      }
    });
  });
}

/** "rs1 172.16.0.2:80 weight 1, ..." for the VIP:80 service, when the table has one. */
function describeWeights(configPath: string, vip: string): string | null {
  const config = loadDirectorConfig(configPath);
  const svc = config.services.find((s) => s.address === vip && s.port === 80);
  if (!svc) return null;
  const servers = svc.servers.map((d) => `${d.address}:${d.port ?? 80} weight ${d.weight}`);
  return `the service table (${svc.scheduler}) has ${servers.join(", ")}`;
}

export function demoCommand(): Command {
  return new Command("demo")
    .description("bring the lab up if needed, send HTTP requests to the VIP, show who answered")
    .option("--name <name>", "lab name", DEFAULT_LAB_NAME)
    .option("--count <n>", "number of requests (1-1000)", (v) => Number(v), 6)
    .option("--artifacts <dir>", "where the pcaps go (default artifacts/<time>-demo)")
    .option("--no-capture", "do not capture (no packet pairs)")
    .action(
      runAction(
        async (opts: { name: string; count: number; artifacts?: string; capture: boolean }) => {
          requireRoot();
          if (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > 1000) {
            throw new Error("--count must be a whole number from 1 to 1000");
          }
          const topology = defaultTopology();
          if (isLabUp(opts.name)) {
            console.log(`lab '${opts.name}' is already up; using it`);
          } else {
            await labUp({ name: opts.name, log: (l) => console.log(l) });
          }
          const status = labStatus(opts.name);
          if (!status.processes.some((p) => p.name === "director" && p.alive)) {
            console.log(
              "warning: no director is running in this lab, so requests to the VIP will fail; " +
                `recreate it with 'lvslab down${
                  opts.name === DEFAULT_LAB_NAME ? "" : ` --name ${opts.name}`
                }' then 'lvslab demo'`,
            );
          }
          const url = `http://${topology.vip}/`;
          console.log(
            `\nclient 198.51.100.2 -> ${url}, ${opts.count} requests, one new connection each:`,
          );
          const timeoutMs = 3000;
          const backend = new NetnsBackend(opts.name);
          const dir = opts.artifacts
            ? path.resolve(opts.artifacts)
            : `${defaultArtifactsDir()}-demo`;
          let capture: CaptureSession | null = null;
          if (opts.capture) {
            try {
              capture = await startCaptures(backend, topology, dir, (l) => console.log(l.trim()));
            } catch (err) {
              console.log(`warning: no capture, so no packet pairs: ${(err as Error).message}`);
            }
          }
          const summary = await runClient(
            namespaceName(opts.name, "client"),
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
          const config = status.state?.configPath;
          const weights = config ? describeWeights(config, topology.vip) : null;
          if (weights) console.log(weights);
          if (capture) {
            const files = await capture.stop();
            const pub = files.find((f) => f.segment === "public");
            const priv = files.find((f) => f.segment === "private");
            if (pub && priv) {
              console.log(
                "\nEvery packet before and after the director (the article's SOURCE/DEST form):",
              );
              for (const l of await pairsFromPcaps(pub.path, priv.path, topology.vip)) {
                console.log(l);
              }
            }
            console.log(`\npcaps (open them in Wireshark): ${files.map((f) => f.path).join(" ")}`);
          }
          const table = await backend.exec("director", ["ipvsadm", "-L", "-n", "-c"], {
            timeoutMs: 30_000,
          });
          console.log("\nThe director's connection table (ipvsadm -L -n -c in the director host):");
          process.stdout.write(
            table.code === 0 ? table.stdout : `(ipvsadm failed: ${table.stderr.trim()})\n`,
          );
          const down = `lvslab down${opts.name === DEFAULT_LAB_NAME ? "" : ` --name ${opts.name}`}`;
          console.log(
            `\nThe lab is still up. Look around with 'lvslab status' or ` +
              `'lvslab exec client -- curl -s ${url}'.\nTake it down with: ${down}`,
          );
          return summary.failed === 0 ? 0 : 1;
        },
      ),
    );
}
