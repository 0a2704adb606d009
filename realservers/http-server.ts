// `http-server`: the lab's HTTP real server. Answers every request with a page naming itself
// and the address:port the request arrived on, on every --listen address.
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

async function main(): Promise<void> {
  const opts = new Command()
    .name("http-server")
    .description("lvslab HTTP real server: answers with a page naming itself")
    .requiredOption("--name <name>", "server name shown in every page, e.g. rs1")
    .requiredOption("--listen <addr:port>", "address to listen on (repeatable)", collect, [])
    .parse()
    .opts<{ name: string; listen: string[] }>();

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
    // Idle keep-alive connections must not hold the process open on shutdown.
    server.keepAliveTimeout = 5000;
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
