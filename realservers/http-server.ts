// realservers/: the programs that run on real-server hosts, one per file (this one,
// udp-echo-server, ftp-server with vsftpd); start here.
//
// `http-server`: the lab's HTTP real server. Answers every request with a page naming itself
// and the address:port the request arrived on, on every --listen address. An idle keep-alive
// connection is closed after --keep-alive-ms (default 5 s, 0: never by the server).
import http from "node:http";
import { Command } from "commander";
import { formatEndpoint, renderServerPage } from "./server-page.ts";
import { parseListen } from "./listen-address.ts";
import { READY_LINES } from "../director/ready-lines.ts";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function listen(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** The server's idle keep-alive timeout when --keep-alive-ms is not given. */
const DEFAULT_KEEP_ALIVE_MS = 5000;

async function main(): Promise<void> {
  const opts = new Command()
    .name("http-server")
    .description("lvslab HTTP real server: answers with a page naming itself")
    .requiredOption("--name <name>", "server name shown in every page, e.g. rs1")
    .requiredOption("--listen <addr:port>", "address to listen on (repeatable)", collect, [])
    .option(
      "--keep-alive-ms <ms>",
      "close a keep-alive connection idle this long (0-600000, 0: never)",
      (v: string) => (/^\d+$/.test(v) ? Number(v) : NaN),
      DEFAULT_KEEP_ALIVE_MS,
    )
    .parse()
    .opts<{ name: string; listen: string[]; keepAliveMs: number }>();
  if (!Number.isInteger(opts.keepAliveMs) || opts.keepAliveMs > 600_000) {
    throw new Error("--keep-alive-ms must be a whole number of milliseconds from 0 to 600000");
  }

  const endpoints = opts.listen.map(parseListen);
  const servers: http.Server[] = [];
  for (const { host, port } of endpoints) {
    const server = http.createServer((req, res) => {
      const body = renderServerPage({
        server: opts.name,
        serverAddress: formatEndpoint(req.socket.localAddress, req.socket.localPort),
        clientAddress: formatEndpoint(req.socket.remoteAddress, req.socket.remotePort),
        method: req.method ?? "GET",
        path: req.url ?? "/",
      });
      res.writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        "content-length": Buffer.byteLength(body),
        "x-lvslab-server": opts.name,
      });
      res.end(req.method === "HEAD" ? undefined : body);
    });
    // How long an idle keep-alive connection stays open (node: 0 is no timeout). The stop
    // handler closes them all, so even 0 does not hold the process open on shutdown.
    server.keepAliveTimeout = opts.keepAliveMs;
    await listen(server, host, port);
    servers.push(server);
  }
  const stop = () => {
    for (const server of servers) {
      server.close();
      server.closeAllConnections();
    }
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  console.log(`${READY_LINES.httpServer}: ${opts.name} on ${opts.listen.join(", ")}`);
}

main().catch((err: Error) => {
  console.error(`http-server: ${err.message}`);
  process.exit(1);
});
