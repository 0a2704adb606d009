// `http-conns`: bounded HTTP load that reports per TCP connection. Each connection carries
// `requests` GETs (1: a new connection per request; more: keep-alive), optionally from one of
// several source addresses, and every answer is attributed to the real server that sent it
// (cheerio on the page). The scenario runner uses the per-connection records to check
// stickiness (one connection, one server) and source/destination hashing.
// With --json the summary is the only output (one JSON line on stdout).
import { checkBounded, checkHttpUrl } from "./options.ts";
import http from "node:http";
import { Command } from "commander";
import { attributeResponse } from "./attribute-response.ts";

export interface ConnLoadOptions {
  url: string;
  connections: number;
  /** GETs per connection; 1 sends `connection: close`, more keep the connection alive. */
  requests: number;
  concurrency: number;
  timeoutMs: number;
  /** Local addresses to connect from, used in turn per connection (default: the kernel's). */
  sources?: string[];
}

export type ConnOutcome = "ok" | "refused" | "reset" | "timeout" | "error";

export interface ConnRecord {
  /** 1-based connection number, in start order. */
  index: number;
  /** Local address the connection was made from (null: the kernel chose). */
  source: string | null;
  /** Local ports used; more than one means the connection was not kept alive. */
  localPorts: number[];
  /** Answers per "server address:port". */
  servers: Record<string, number>;
  answered: number;
  outcome: ConnOutcome;
  error: string | null;
}

export interface ConnSummary {
  connections: number;
  requests: number;
  answered: number;
  /** Connections whose every request was answered. */
  ok: number;
  failed: number;
  outcomes: Record<ConnOutcome, number>;
  byServer: Record<string, number>;
  /** Answers per "server address:port" (the real server's own address after the rewrite). */
  byServerAddress: Record<string, number>;
  records: ConnRecord[];
}

export const CONN_LIMITS = {
  connections: 20_000,
  requests: 1000,
  concurrency: 256,
  timeoutMs: 60_000,
};

/** Throws a sentence when an option is outside its bound. */
export function checkConnOptions(opts: ConnLoadOptions): void {
  checkHttpUrl(opts.url);
  checkBounded("--connections", opts.connections, CONN_LIMITS.connections);
  checkBounded("--requests", opts.requests, CONN_LIMITS.requests);
  checkBounded("--concurrency", opts.concurrency, CONN_LIMITS.concurrency);
  checkBounded("--timeout-ms", opts.timeoutMs, CONN_LIMITS.timeoutMs);
}

/** Sorts an error into what happened to the connection. */
export function classifyError(err: NodeJS.ErrnoException | Error): ConnOutcome {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ECONNREFUSED") return "refused";
  if (code === "ECONNRESET" || code === "EPIPE") return "reset";
  if (code === "ETIMEDOUT" || /within \d+ ms/.test(err.message)) return "timeout";
  return "error";
}

interface Answer {
  key: string;
  server: string;
}

function getOnce(
  url: string,
  agent: http.Agent,
  localAddress: string | undefined,
  last: boolean,
  timeoutMs: number,
  ports: Set<number>,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err: Error | null, answer?: Answer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(answer!);
    };
    const req = http.get(url, {
      agent,
      localAddress,
      headers: { connection: last ? "close" : "keep-alive" },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", (err) => finish(err));
      res.on("end", () => {
        const a = attributeResponse(Buffer.concat(chunks).toString("utf8"));
        if (res.statusCode !== 200) finish(new Error(`HTTP status ${res.statusCode}`));
        else if (!a) finish(new Error("the answer names no lvslab real server"));
        else finish(null, { key: `${a.server} ${a.serverAddress ?? "?"}`, server: a.server });
      });
    });
    req.on("socket", (s) => {
      const note = () => {
        if (s.localPort) ports.add(s.localPort);
      };
      if (s.localPort) note();
      else s.once("connect", note);
    });
    const timer = setTimeout(
      () => req.destroy(new Error(`no complete answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.on("error", (err) => finish(err));
  });
}

/** One connection's requests, in order; never rejects. */
async function runConnection(
  opts: ConnLoadOptions,
  index: number,
  summary: ConnSummary,
): Promise<ConnRecord> {
  const source = opts.sources?.length ? opts.sources[(index - 1) % opts.sources.length] : null;
  const keepAlive = opts.requests > 1;
  const agent = new http.Agent({ keepAlive, maxSockets: 1 });
  const ports = new Set<number>();
  const record: ConnRecord = {
    index,
    source,
    localPorts: [],
    servers: {},
    answered: 0,
    outcome: "ok",
    error: null,
  };
  try {
    for (let i = 0; i < opts.requests; i++) {
      const last = i === opts.requests - 1;
      const answer = await getOnce(
        opts.url,
        agent,
        source ?? undefined,
        last || !keepAlive,
        opts.timeoutMs,
        ports,
      );
      record.answered++;
      record.servers[answer.key] = (record.servers[answer.key] ?? 0) + 1;
      summary.byServer[answer.server] = (summary.byServer[answer.server] ?? 0) + 1;
      summary.byServerAddress[answer.key] = (summary.byServerAddress[answer.key] ?? 0) + 1;
    }
  } catch (err) {
    record.outcome = classifyError(err as Error);
    const e = err as NodeJS.ErrnoException;
    record.error = e.code && !e.message.includes(e.code) ? `${e.code} ${e.message}` : e.message;
  } finally {
    agent.destroy();
  }
  record.localPorts = [...ports];
  return record;
}

/** A summary of `connections` × `requests` before any of them has run. */
export function emptyConnSummary(connections: number, requests: number): ConnSummary {
  return {
    connections,
    requests: connections * requests,
    answered: 0,
    ok: 0,
    failed: 0,
    outcomes: { ok: 0, refused: 0, reset: 0, timeout: 0, error: 0 },
    byServer: {},
    byServerAddress: {},
    records: [],
  };
}

/** Runs the whole load; records are returned in start order. */
export async function runConnLoad(opts: ConnLoadOptions): Promise<ConnSummary> {
  checkConnOptions(opts);
  const summary = emptyConnSummary(opts.connections, opts.requests);
  summary.records = new Array(opts.connections);
  let next = 0;
  const worker = async () => {
    while (next < opts.connections) {
      const index = ++next;
      const record = await runConnection(opts, index, summary);
      summary.records[index - 1] = record;
      summary.answered += record.answered;
      summary.outcomes[record.outcome]++;
      if (record.outcome === "ok") summary.ok++;
      else summary.failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.connections) }, worker));
  return summary;
}

function integer(value: string): number {
  return /^\d+$/.test(value) ? Number(value) : NaN;
}

function list(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(",").filter(Boolean)];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const opts = new Command()
    .name("http-conns")
    .description("HTTP load reported per TCP connection, each answer attributed to its server")
    .option("--url <url>", "what to fetch", "http://203.0.113.5/")
    .option("--connections <n>", "TCP connections (1-20000)", integer, 10)
    .option("--requests <n>", "GETs per connection; >1 keeps it alive (1-1000)", integer, 1)
    .option("--concurrency <n>", "connections at once (1-256)", integer, 1)
    .option("--timeout-ms <ms>", "deadline per request (1-60000)", integer, 3000)
    .option("--source <addr>", "local address to use, in turn (repeatable, or a,b,c)", list, [])
    .option("--no-records", "leave the per-connection records out of the JSON")
    .parse()
    .opts<{
      url: string;
      connections: number;
      requests: number;
      concurrency: number;
      timeoutMs: number;
      source: string[];
      records: boolean;
    }>();
  try {
    const summary = await runConnLoad({
      url: opts.url,
      connections: opts.connections,
      requests: opts.requests,
      concurrency: opts.concurrency,
      timeoutMs: opts.timeoutMs,
      sources: opts.source,
    });
    if (!opts.records) summary.records = [];
    console.log(JSON.stringify(summary));
  } catch (err) {
    console.error(`http-conns: ${(err as Error).message}`);
    process.exit(2);
  }
}
