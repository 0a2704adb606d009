// clients/: the traffic generators that run on the lab's client host, one program per file (this
// one, http-load, tcp-hold, udp-client, tcp-probe); start here.
//
// `http-client`: bounded HTTP load against a URL (normally the VIP), one new TCP connection per
// request, printing which real server answered each one and a summary.
// With --json the summary is the only thing on stdout (per-request lines go to stderr).
import { Command } from "commander";
import { type RequestResult, runHttpLoad, summarize } from "./http-load.ts";

function integer(value: string): number {
  return /^\d+$/.test(value) ? Number(value) : NaN;
}

function describe(r: RequestResult): string {
  const n = `#${r.index}`.padEnd(5);
  if (!r.ok || !r.attribution) return `${n} failed: ${r.error} (${r.ms} ms)`;
  const a = r.attribution;
  return `${n} ${a.server.padEnd(6)} ${a.serverAddress ?? "?"}  client seen as ${
    a.clientAddress ?? "?"
  }  (${r.ms} ms)`;
}

async function main(): Promise<void> {
  const opts = new Command()
    .name("http-client")
    .description("HTTP load that attributes each answer to the real server that produced it")
    .option("--url <url>", "what to fetch", "http://203.0.113.5/")
    .option("--count <n>", "number of requests (1-100000)", integer, 10)
    .option("--concurrency <n>", "requests in flight at once (1-256)", integer, 1)
    .option("--timeout-ms <ms>", "deadline per request (1-60000)", integer, 3000)
    .option("--quiet", "no line per request")
    .option("--json", "print the summary as JSON on stdout (request lines go to stderr)")
    .parse()
    .opts<
      {
        url: string;
        count: number;
        concurrency: number;
        timeoutMs: number;
        quiet?: boolean;
        json?: boolean;
      }
    >();

  const line = opts.json ? console.error : console.log;
  const results = await runHttpLoad({
    url: opts.url,
    count: opts.count,
    concurrency: opts.concurrency,
    timeoutMs: opts.timeoutMs,
    onResult: opts.quiet ? undefined : (r) => line(describe(r)),
  });
  const summary = summarize(results);
  if (opts.json) {
    console.log(JSON.stringify(summary));
  } else {
    const servers = Object.entries(summary.byServer).map(([s, n]) => `${s} ${n}`).join(", ");
    console.log(
      `${summary.total} requests: ${summary.ok} answered (${servers || "none"}), ` +
        `${summary.failed} failed`,
    );
  }
  process.exitCode = summary.failed === 0 ? 0 : 1;
}

main().catch((err: Error) => {
  console.error(`http-client: ${err.message}`);
  process.exit(2);
});
