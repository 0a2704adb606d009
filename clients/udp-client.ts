// `udp-client`: sends datagrams of a given size to a UDP service, each from a new source port
// (so each is a new connection for the director: the kernel's ephemeral ports, or base,
// base+1, ... with --base-port, so that no port is reused by chance), checks that every echo
// carries the same bytes back, and attributes it to the real server named in the echo's first
// line ("<name> <address:port>", realservers/udp-echo-server.ts). A refused port shows up as
// ECONNREFUSED (the ICMP port unreachable) on the connected socket. One JSON line on stdout.
import dgram from "node:dgram";
import crypto from "node:crypto";
import { Command } from "commander";
import { parseListen } from "../realservers/listen-address.ts";
import { checkBounded } from "./options.ts";

export interface UdpSummary {
  sent: number;
  echoed: number;
  refused: number;
  timedOut: number;
  corrupted: number;
  /** Echoes per real server name. */
  byServer: Record<string, number>;
  /** Echoes per "name address:port" of the real server. */
  byServerAddress: Record<string, number>;
}

type Outcome = "echoed" | "refused" | "timedOut" | "corrupted";

/** One datagram and its echo; sourcePort 0 lets the kernel choose. */
function exchangeOnce(
  host: string,
  port: number,
  sourcePort: number,
  size: number,
  timeoutMs: number,
): Promise<{ outcome: Outcome; server?: string }> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket("udp4");
    const payload = crypto.randomBytes(size);
    let settled = false;
    const done = (result: { outcome: Outcome; server?: string }) => {
      if (settled) return;
      settled = true;
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
      const server = reply.subarray(0, Math.max(0, newline)).toString();
      const echoed = reply.subarray(newline + 1);
      done({ outcome: newline > 0 && echoed.equals(payload) ? "echoed" : "corrupted", server });
    });
    socket.bind(sourcePort, () => socket.connect(port, host, () => socket.send(payload)));
  });
}

/** Sends `count` datagrams one after another; basePort 0: ephemeral source ports. */
export async function runUdpExchange(
  target: string,
  count: number,
  size: number,
  timeoutMs: number,
  basePort = 0,
): Promise<UdpSummary> {
  const { host, port } = parseListen(target);
  const summary: UdpSummary = {
    sent: 0,
    echoed: 0,
    refused: 0,
    timedOut: 0,
    corrupted: 0,
    byServer: {},
    byServerAddress: {},
  };
  for (let i = 0; i < count; i++) {
    const r = await exchangeOnce(host, port, basePort === 0 ? 0 : basePort + i, size, timeoutMs);
    summary.sent++;
    summary[r.outcome]++;
    if (r.outcome === "echoed" && r.server) {
      const name = r.server.split(" ")[0];
      summary.byServer[name] = (summary.byServer[name] ?? 0) + 1;
      summary.byServerAddress[r.server] = (summary.byServerAddress[r.server] ?? 0) + 1;
    }
  }
  return summary;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const opts = new Command()
    .name("udp-client")
    .requiredOption("--target <addr:port>", "UDP service, e.g. 203.0.113.5:9000")
    .option("--count <n>", "datagrams to send (1-10000)", Number, 10)
    .option("--size <bytes>", "payload size (1-65000)", Number, 64)
    .option("--timeout-ms <ms>", "wait for each echo (1-10000)", Number, 2000)
    .option("--base-port <port>", "first source port, datagram i uses base+i (default: any)")
    .parse()
    .opts<{ target: string; count: number; size: number; timeoutMs: number; basePort?: string }>();
  const basePort = opts.basePort === undefined ? 0 : Number(opts.basePort);
  try {
    checkBounded("--count", opts.count, 10_000);
    checkBounded("--size", opts.size, 65_000);
    checkBounded("--timeout-ms", opts.timeoutMs, 10_000);
    if (basePort !== 0) checkBounded("--base-port", basePort, 65535 - opts.count, 1024);
  } catch (err) {
    console.error(`udp-client: ${(err as Error).message}`);
    process.exit(2);
  }
  const summary = await runUdpExchange(
    opts.target,
    opts.count,
    opts.size,
    opts.timeoutMs,
    basePort,
  );
  console.log(JSON.stringify(summary));
}
