// `udp-client`: sends datagrams of a given size to a UDP service (one new source port per
// datagram, so each is a new connection for the director), checks that every echo carries
// the same bytes back, and attributes it to the real server named in the echo's first line.
// A refused port shows up as ECONNREFUSED (the ICMP port unreachable) on the connected socket.
import dgram from "node:dgram";
import crypto from "node:crypto";
import { Command } from "commander";
import { parseListen } from "../realservers/listen-address.ts";

export interface UdpSummary {
  sent: number;
  echoed: number;
  refused: number;
  timedOut: number;
  corrupted: number;
  byServer: Record<string, number>;
}

function exchangeOnce(
  host: string,
  port: number,
  size: number,
  timeoutMs: number,
): Promise<{ outcome: "echoed" | "refused" | "timedOut" | "corrupted"; server?: string }> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket("udp4");
    const payload = crypto.randomBytes(size);
    const done = (result: Awaited<ReturnType<typeof exchangeOnce>>) => {
      clearTimeout(timer);
      socket.close();
      resolve(result);
    };
    const timer = setTimeout(() => done({ outcome: "timedOut" }), timeoutMs);
    socket.on("error", (err: NodeJS.ErrnoException) => {
      done({ outcome: err.code === "ECONNREFUSED" ? "refused" : "timedOut" });
    });
    socket.on("message", (reply) => {
      const newline = reply.indexOf(10);
      const server = reply.subarray(0, Math.max(0, newline)).toString().split(" ")[0];
      const echoed = reply.subarray(newline + 1);
      done({ outcome: newline > 0 && echoed.equals(payload) ? "echoed" : "corrupted", server });
    });
    socket.connect(port, host, () => socket.send(payload));
  });
}

export async function runUdpExchange(
  target: string,
  count: number,
  size: number,
  timeoutMs: number,
): Promise<UdpSummary> {
  const { host, port } = parseListen(target);
  const summary: UdpSummary = {
    sent: 0,
    echoed: 0,
    refused: 0,
    timedOut: 0,
    corrupted: 0,
    byServer: {},
  };
  for (let i = 0; i < count; i++) {
    const result = await exchangeOnce(host, port, size, timeoutMs);
    summary.sent++;
    summary[result.outcome]++;
    if (result.outcome === "echoed" && result.server) {
      summary.byServer[result.server] = (summary.byServer[result.server] ?? 0) + 1;
    }
  }
  return summary;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const opts = new Command()
    .name("udp-client")
    .requiredOption("--target <addr:port>", "UDP service, e.g. 203.0.113.5:9000")
    .option("--count <n>", "datagrams to send (max 10000)", "10")
    .option("--size <bytes>", "payload size (max 65000)", "64")
    .option("--timeout-ms <ms>", "wait for each echo (max 10000)", "2000")
    .parse()
    .opts<{ target: string; count: string; size: string; timeoutMs: string }>();
  const count = Math.min(Number(opts.count), 10_000);
  const size = Math.min(Number(opts.size), 65_000);
  const timeoutMs = Math.min(Number(opts.timeoutMs), 10_000);
  const summary = await runUdpExchange(opts.target, count, size, timeoutMs);
  console.log(JSON.stringify(summary));
}
