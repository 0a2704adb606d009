// Bulk TCP throughput with iperf3 from the client host: 1 or more parallel streams, client →
// server or (-R) server → client, as the receiver counted it.
import { execIn } from "../../lab/netns/lab.ts";
import { parseIperf3Tcp } from "../parse/iperf3.ts";
import { IPERF_PORT, LAB } from "../config.ts";

export interface TcpRun {
  target: string;
  streams: number;
  reverse: boolean;
  seconds: number;
}

export interface TcpThroughput {
  /** Gbit/s the receiver got. */
  gbps: number;
  /** Bytes the receiver got. */
  bytes: number;
}

export async function measureTcp(run: TcpRun): Promise<TcpThroughput> {
  const argv = [
    "iperf3",
    "-c",
    run.target,
    "-p",
    String(IPERF_PORT),
    "-t",
    String(run.seconds),
    "-P",
    String(run.streams),
    "-J",
    ...(run.reverse ? ["-R"] : []),
  ];
  const r = await execIn("client", argv, { name: LAB, timeoutMs: (run.seconds + 20) * 1000 });
  if (r.code !== 0 && !r.stdout.trim().startsWith("{")) {
    throw new Error(`iperf3 to ${run.target} failed: ${(r.stderr || r.stdout).trim()}`);
  }
  const result = parseIperf3Tcp(r.stdout);
  return { gbps: result.bitsPerSecond / 1e9, bytes: result.bytes };
}
