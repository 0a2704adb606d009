// `lvslab demo`: bring the article's lab up if needed, send requests to the VIP and show which
// real server answered each; leaves the lab up for exploring.
import { spawn } from "node:child_process";
import { Command } from "commander";
import { isLabUp, labStatus, labUp, repoProgram, requireRoot } from "../lab.ts";
import { DEFAULT_LAB_NAME, defaultTopology, namespaceName } from "../topology.ts";
import type { LoadSummary } from "../../clients/http-load.ts";
import { loadDirectorConfig } from "../../director/config/service-config.ts";
import { runAction } from "./run-action.ts";

/** Runs the HTTP client in the client host: request lines to our stdout, summary parsed. */
function runClient(ns: string, args: string[], timeoutMs: number): Promise<LoadSummary> {
  return new Promise((resolve, reject) => {
    const argv = ["netns", "exec", ns, ...repoProgram("clients/http-client.ts", args)];
    const child = spawn("ip", argv, { stdio: ["ignore", "pipe", "pipe"] });
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
    .option("--count <n>", "number of requests (1-1000)", (v) => Number(v), 12)
    .action(runAction(async (opts: { name: string; count: number }) => {
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
      const summary = await runClient(
        namespaceName(opts.name, "client"),
        ["--url", url, "--count", String(opts.count), "--timeout-ms", String(timeoutMs), "--json"],
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
      const down = `lvslab down${opts.name === DEFAULT_LAB_NAME ? "" : ` --name ${opts.name}`}`;
      console.log(
        `\nThe lab is still up. Look around with 'lvslab status' or ` +
          `'lvslab exec client -- curl -s ${url}'.\nTake it down with: ${down}`,
      );
      return summary.failed === 0 ? 0 : 1;
    }));
}
