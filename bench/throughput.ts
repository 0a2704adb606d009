// Bulk TCP throughput through the director host, side by side in one run on one lab:
//   kernel   plain kernel forwarding to a real server (no load balancing: the limit)
//   lvslab   the director with the TUN offload (TSO super-packets, partial checksums)
//   no-tso   the director without the offload (one 1500-byte packet per read)
// Prints a markdown table with ratios to kernel forwarding, and JSON with --json.
// Usage: sudo npx tsx bench/throughput.ts [--seconds 5] [--json]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execIn, labDown, labUp, repoProgram } from "../lab/lab.ts";
import { startInNamespace } from "../lab/netns/processes.ts";
import { namespaceName } from "../lab/topology.ts";

const LAB = "lvsbench";
const VIP = "203.0.113.5";
const RS1 = "172.16.0.2";
const args = process.argv.slice(2);
const seconds = Math.min(30, Number(args[args.indexOf("--seconds") + 1]) || 5);
const asJson = args.includes("--json");

const SERVICES = `services:
  - { protocol: tcp, address: ${VIP}, port: 5201, scheduler: rr, servers: [{ address: ${RS1}, port: 5201 }] }
`;

interface Measurement {
  name: string;
  what: string;
  gbps: number;
}

async function iperf(target: string): Promise<number> {
  const r = await execIn("client", ["iperf3", "-c", target, "-t", String(seconds), "-J"], {
    name: LAB,
    timeoutMs: (seconds + 20) * 1000,
  });
  if (r.code !== 0) throw new Error(`iperf3 to ${target} failed: ${r.stderr || r.stdout}`);
  return JSON.parse(r.stdout).end.sum_received.bits_per_second / 1e9;
}

async function withDirector<T>(workDir: string, extra: string[], fn: () => Promise<T>): Promise<T> {
  const config = path.join(workDir, "services.yaml");
  const pid = await startInNamespace({
    namespace: namespaceName(LAB, "director"),
    argv: repoProgram("director/main.ts", ["--config", config, "--private-dev", "eth1", ...extra]),
    cwd: process.cwd(),
    logFile: path.join(workDir, `director${extra.join("")}.log`),
    readyText: "lvslab-director ready",
    readyTimeoutMs: 15_000,
    what: "the director",
  });
  try {
    return await fn();
  } finally {
    process.kill(pid, "SIGTERM");
    // The director removes its routes and rules on SIGTERM; wait for it to be gone.
    for (let i = 0; i < 50; i++) {
      try {
        process.kill(pid, 0);
        await new Promise((r) => setTimeout(r, 100));
      } catch {
        break;
      }
    }
  }
}

async function main(): Promise<void> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-bench-"));
  fs.writeFileSync(path.join(workDir, "services.yaml"), SERVICES);
  await labDown(LAB);
  await labUp({ name: LAB, director: false });
  const results: Measurement[] = [];
  try {
    await startInNamespace({
      namespace: namespaceName(LAB, "rs1"),
      argv: ["iperf3", "-s", "--forceflush", "-B", RS1, "-p", "5201"],
      cwd: process.cwd(),
      logFile: path.join(workDir, "iperf3.log"),
      readyText: "Server listening",
      readyTimeoutMs: 10_000,
      what: "iperf3 server",
    });
    results.push({
      name: "kernel",
      what: "kernel forwarding, client → 172.16.0.2",
      gbps: await iperf(RS1),
    });
    results.push({
      name: "lvslab",
      what: "lvslab VS/NAT, TUN offload on",
      gbps: await withDirector(workDir, [], () => iperf(VIP)),
    });
    results.push({
      name: "no-tso",
      what: "lvslab VS/NAT, TUN offload off",
      gbps: await withDirector(workDir, ["--no-offload"], () => iperf(VIP)),
    });
  } finally {
    await labDown(LAB);
  }
  const kernel = results[0].gbps;
  if (asJson) {
    console.log(JSON.stringify({ seconds, results }, null, 2));
    return;
  }
  console.log(`Bulk TCP, 1 stream, client → server, ${seconds} s each, same lab, same run\n`);
  console.log("| path | Gbit/s | vs kernel forwarding |");
  console.log("|---|---|---|");
  for (const r of results) {
    console.log(`| ${r.what} | ${r.gbps.toFixed(2)} | ${(r.gbps / kernel).toFixed(2)} |`);
  }
}

main().catch((err: Error) => {
  console.error(`bench: ${err.message}`);
  process.exit(1);
});
