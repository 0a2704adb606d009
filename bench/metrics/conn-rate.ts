// New connections per second and their latency: wrk from the client host with
// "Connection: close", so every request opens (and closes) a TCP connection through the
// load balancer, against nginx on the real servers (C on both ends: the load generator and
// server must not be what is measured).
import { execIn } from "../../lab/netns/lab.ts";
import { parseWrk, type WrkResult } from "../parse/wrk.ts";
import { LAB } from "../config.ts";

export interface ConnRateRun {
  url: string;
  seconds: number;
  /** Concurrent connections wrk keeps open (each request on a new one). */
  connections?: number;
}

export async function measureConnRate(run: ConnRateRun): Promise<WrkResult> {
  const argv = [
    "wrk",
    "-t1",
    `-c${run.connections ?? 32}`,
    `-d${run.seconds}s`,
    "--timeout",
    "2s",
    "--latency",
    "-H",
    "Connection: close",
    run.url,
  ];
  const r = await execIn("client", argv, { name: LAB, timeoutMs: (run.seconds + 20) * 1000 });
  if (r.code !== 0) throw new Error(`wrk ${run.url} failed: ${(r.stderr || r.stdout).trim()}`);
  return parseWrk(r.stdout);
}
