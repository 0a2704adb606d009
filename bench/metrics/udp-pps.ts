// Small-packet UDP: iperf3 sends 64-byte datagrams as fast as it can (-b 0) from the client;
// what counts is how many the real server received per second.
import { execIn } from "../../lab/netns/lab.ts";
import { parseIperf3Udp, type UdpResult } from "../parse/iperf3.ts";
import { IPERF_PORT, LAB } from "../config.ts";

export async function measureUdp(target: string, seconds: number): Promise<UdpResult> {
  const argv = [
    "iperf3",
    "-c",
    target,
    "-p",
    String(IPERF_PORT),
    "-u",
    "-l",
    "64",
    "-b",
    "0",
    "-t",
    String(seconds),
    "-J",
  ];
  const r = await execIn("client", argv, { name: LAB, timeoutMs: (seconds + 20) * 1000 });
  if (r.code !== 0 && !r.stdout.trim().startsWith("{")) {
    throw new Error(`iperf3 -u to ${target} failed: ${(r.stderr || r.stdout).trim()}`);
  }
  return parseIperf3Udp(r.stdout);
}
