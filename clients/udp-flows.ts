// `udp-flows`: one datagram per flow to a UDP service, each flow from its own source port
// (base, base+1, ...), so every datagram is a new connection for the director, with no
// port reused by chance as ephemeral ports would be. Checks each echo carries the datagram
// back and attributes it to the real server named in the echo's first line
// ("<name> <address:port>", realservers/udp-echo-server.ts). One JSON line on stdout.
import dgram from "node:dgram";
import crypto from "node:crypto";
import { Command } from "commander";
import { parseListen } from "../realservers/listen-address.ts";
import type { UdpSummary } from "./udp-client.ts";

export interface UdpFlowSummary extends UdpSummary {
  /** Echoes per "name address:port" of the real server. */
  byServerAddress: Record<string, number>;
}

type Outcome = "echoed" | "refused" | "timedOut" | "corrupted";

function flow(
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
    const done = (r: { outcome: Outcome; server?: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      resolve(r);
    };
    const timer = setTimeout(() => done({ outcome: "timedOut" }), timeoutMs);
    socket.on(
      "error",
      (err: NodeJS.ErrnoException) =>
        done({ outcome: err.code === "ECONNREFUSED" ? "refused" : "timedOut" }),
    );
    socket.on("message", (reply) => {
      const newline = reply.indexOf(10);
      const server = reply.subarray(0, Math.max(0, newline)).toString();
      const ok = newline > 0 && reply.subarray(newline + 1).equals(payload);
      done({ outcome: ok ? "echoed" : "corrupted", server });
    });
    socket.bind(sourcePort, () => socket.connect(port, host, () => socket.send(payload)));
  });
}

export async function runUdpFlows(
  target: string,
  count: number,
  size: number,
  timeoutMs: number,
  basePort: number,
): Promise<UdpFlowSummary> {
  const { host, port } = parseListen(target);
  const s: UdpFlowSummary = {
    sent: 0,
    echoed: 0,
    refused: 0,
    timedOut: 0,
    corrupted: 0,
    byServer: {},
    byServerAddress: {},
  };
  for (let i = 0; i < count; i++) {
    const r = await flow(host, port, basePort + i, size, timeoutMs);
    s.sent++;
    s[r.outcome]++;
    if (r.outcome === "echoed" && r.server) {
      const name = r.server.split(" ")[0];
      s.byServer[name] = (s.byServer[name] ?? 0) + 1;
      s.byServerAddress[r.server] = (s.byServerAddress[r.server] ?? 0) + 1;
    }
  }
  return s;
}

function integer(value: string): number {
  return /^\d+$/.test(value) ? Number(value) : NaN;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const opts = new Command()
    .name("udp-flows")
    .requiredOption("--target <addr:port>", "UDP service, e.g. 203.0.113.5:9000")
    .option("--count <n>", "flows, one datagram each (1-10000)", integer, 10)
    .option("--size <bytes>", "payload size (1-65000)", integer, 64)
    .option("--timeout-ms <ms>", "wait for each echo (1-10000)", integer, 1000)
    .option("--base-port <port>", "first source port; flow i uses base+i", integer, 20000)
    .parse()
    .opts<{ target: string; count: number; size: number; timeoutMs: number; basePort: number }>();
  const ok = (v: number, lo: number, hi: number) => Number.isInteger(v) && v >= lo && v <= hi;
  if (
    !ok(opts.count, 1, 10_000) || !ok(opts.size, 1, 65_000) || !ok(opts.timeoutMs, 1, 10_000) ||
    !ok(opts.basePort, 1024, 65535 - opts.count)
  ) {
    console.error(
      "udp-flows: --count 1-10000, --size 1-65000, --timeout-ms 1-10000, and --base-port " +
        "1024 or more with room for --count ports",
    );
    process.exit(2);
  }
  const summary = await runUdpFlows(
    opts.target,
    opts.count,
    opts.size,
    opts.timeoutMs,
    opts.basePort,
  );
  console.log(JSON.stringify(summary));
}
