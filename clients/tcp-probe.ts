// `tcp-probe`: tries TCP connections to a service one after another and says what happened
// to each: accepted (and the first line the server sent, e.g. an FTP "220" banner), refused
// (an RST answered the SYN), reset, unreachable (an ICMP host/network unreachable or
// prohibited answered it: connect's EHOSTUNREACH/ENETUNREACH, "No route to host"), or no
// answer in time. One JSON line on stdout.
import net from "node:net";
import { Command } from "commander";

export type ProbeOutcome =
  | "accepted"
  | "refused"
  | "reset"
  | "unreachable"
  | "timeout"
  | "error";

export interface ProbeSummary {
  target: string;
  attempts: number;
  outcomes: Record<ProbeOutcome, number>;
  /** Distinct first lines servers sent within --banner-ms of accepting. */
  banners: string[];
}

function probeOnce(
  host: string,
  port: number,
  timeoutMs: number,
  bannerMs: number,
): Promise<{ outcome: ProbeOutcome; banner: string | null }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let settled = false;
    let banner = "";
    let connected = false;
    const done = (outcome: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const line = banner.split(/\r?\n/)[0];
      resolve({ outcome, banner: line ? line : null });
    };
    let timer = setTimeout(() => done("timeout"), timeoutMs);
    socket.once("connect", () => {
      connected = true;
      clearTimeout(timer);
      if (bannerMs === 0) done("accepted");
      else timer = setTimeout(() => done("accepted"), bannerMs);
    });
    socket.on("data", (d: Buffer) => {
      banner += d.toString("latin1");
      if (banner.includes("\n")) done("accepted");
    });
    socket.on("end", () => done("accepted"));
    socket.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ECONNREFUSED") done("refused");
      else if (err.code === "EHOSTUNREACH" || err.code === "ENETUNREACH") done("unreachable");
      else if (err.code === "ECONNRESET") done(connected ? "reset" : "refused");
      else done("error");
    });
  });
}

export async function runProbe(
  target: string,
  count: number,
  timeoutMs: number,
  bannerMs: number,
): Promise<ProbeSummary> {
  const [host, portText] = target.split(":");
  const port = Number(portText);
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`--target '${target}' is not address:port like 203.0.113.5:21`);
  }
  const summary: ProbeSummary = {
    target,
    attempts: 0,
    outcomes: { accepted: 0, refused: 0, reset: 0, unreachable: 0, timeout: 0, error: 0 },
    banners: [],
  };
  for (let i = 0; i < count; i++) {
    const r = await probeOnce(host, port, timeoutMs, bannerMs);
    summary.attempts++;
    summary.outcomes[r.outcome]++;
    if (r.banner && !summary.banners.includes(r.banner) && summary.banners.length < 10) {
      summary.banners.push(r.banner);
    }
  }
  return summary;
}

function integer(value: string): number {
  return /^\d+$/.test(value) ? Number(value) : NaN;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const opts = new Command()
    .name("tcp-probe")
    .description("try TCP connections and report accepted / refused / timeout")
    .requiredOption("--target <addr:port>", "service, e.g. 203.0.113.5:21")
    .option("--count <n>", "attempts, one after another (1-1000)", integer, 1)
    .option("--timeout-ms <ms>", "deadline per attempt (1-60000)", integer, 2000)
    .option("--banner-ms <ms>", "wait this long for a first line after connecting", integer, 0)
    .parse()
    .opts<{ target: string; count: number; timeoutMs: number; bannerMs: number }>();
  if (
    !(opts.count >= 1 && opts.count <= 1000) || !(opts.timeoutMs >= 1 && opts.timeoutMs <= 60_000)
  ) {
    console.error("tcp-probe: --count must be 1-1000 and --timeout-ms 1-60000");
    process.exit(2);
  }
  try {
    console.log(
      JSON.stringify(await runProbe(opts.target, opts.count, opts.timeoutMs, opts.bannerMs)),
    );
  } catch (err) {
    console.error(`tcp-probe: ${(err as Error).message}`);
    process.exit(2);
  }
}
