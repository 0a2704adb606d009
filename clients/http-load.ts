// Bounded HTTP load: `count` GET requests, at most `concurrency` at a time, each on a NEW TCP
// connection (the director schedules connections, so reusing one would hide its choices),
// each attributed to the real server that answered.
import { checkBounded, checkHttpUrl } from "./options.ts";
import http from "node:http";
import { attributeResponse, type Attribution } from "./attribute-response.ts";

export interface HttpLoadOptions {
  url: string;
  count: number;
  concurrency: number;
  timeoutMs: number;
  /** Called once per finished request, in completion order. */
  onResult?: (result: RequestResult) => void;
}

export interface RequestResult {
  /** 1-based request number, in start order. */
  index: number;
  ok: boolean;
  status: number | null;
  attribution: Attribution | null;
  error: string | null;
  ms: number;
}

export interface LoadSummary {
  total: number;
  ok: number;
  failed: number;
  byServer: Record<string, number>;
  /** Counts per "server address:port" the request arrived on (shows the port rewrite). */
  byServerAddress: Record<string, number>;
  errors: string[];
}

export const LIMITS = { count: 100_000, concurrency: 256, timeoutMs: 60_000 };
const MAX_BODY = 1 << 20;
const MAX_ERRORS_LISTED = 100;

/** Throws a sentence when an option is outside its bound. */
export function checkLoadOptions(opts: Omit<HttpLoadOptions, "onResult">): void {
  checkHttpUrl(opts.url);
  checkBounded("--count", opts.count, LIMITS.count);
  checkBounded("--concurrency", opts.concurrency, LIMITS.concurrency);
  checkBounded("--timeout-ms", opts.timeoutMs, LIMITS.timeoutMs);
}

function describeError(err: NodeJS.ErrnoException): string {
  return err.code && !err.message.includes(err.code) ? `${err.code} ${err.message}` : err.message;
}

/** One GET on a fresh connection; never rejects, failures become results. */
export function requestOnce(
  url: string,
  index: number,
  timeoutMs: number,
  agent: http.Agent,
): Promise<RequestResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: Omit<RequestResult, "index" | "ms">) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...r, index, ms: Math.round(performance.now() - started) });
    };
    const fail = (error: string, status: number | null = null) =>
      finish({ ok: false, status, attribution: null, error });
    const req = http.get(url, { agent, headers: { connection: "close" } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) req.destroy(new Error(`answer larger than ${MAX_BODY} bytes`));
        else chunks.push(chunk);
      });
      res.on("error", (err) => fail(describeError(err), res.statusCode ?? null));
      res.on("end", () => {
        const status = res.statusCode ?? null;
        const attribution = attributeResponse(Buffer.concat(chunks).toString("utf8"));
        if (status !== 200) fail(`HTTP status ${status}`, status);
        else if (!attribution) fail("the answer names no lvslab real server", status);
        else finish({ ok: true, status, attribution, error: null });
      });
    });
    // A deadline for the whole request, not only for idle sockets.
    const timer = setTimeout(
      () => req.destroy(new Error(`no complete answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.on("error", (err) => fail(describeError(err)));
  });
}

/** Folds results into the summary the client prints. */
export function summarize(results: RequestResult[]): LoadSummary {
  const summary: LoadSummary = {
    total: results.length,
    ok: 0,
    failed: 0,
    byServer: {},
    byServerAddress: {},
    errors: [],
  };
  for (const r of results) {
    if (r.ok && r.attribution) {
      summary.ok++;
      const { server, serverAddress } = r.attribution;
      summary.byServer[server] = (summary.byServer[server] ?? 0) + 1;
      const key = `${server} ${serverAddress ?? "?"}`;
      summary.byServerAddress[key] = (summary.byServerAddress[key] ?? 0) + 1;
    } else {
      summary.failed++;
      if (summary.errors.length < MAX_ERRORS_LISTED) summary.errors.push(`#${r.index}: ${r.error}`);
    }
  }
  return summary;
}

/** Runs the whole load; results are returned in start order. */
export async function runHttpLoad(opts: HttpLoadOptions): Promise<RequestResult[]> {
  checkLoadOptions(opts);
  const agent = new http.Agent({ keepAlive: false, maxSockets: opts.concurrency });
  const results: RequestResult[] = new Array(opts.count);
  let next = 0;
  const worker = async () => {
    while (next < opts.count) {
      const index = ++next;
      const result = await requestOnce(opts.url, index, opts.timeoutMs, agent);
      results[index - 1] = result;
      opts.onResult?.(result);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.count) }, worker));
  agent.destroy();
  return results;
}
