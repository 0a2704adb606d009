// Reads wrk's text report (run with --latency): requests per second, latency percentiles
// and the error lines, so a run that mostly failed is not reported as a rate.

export interface WrkResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  /** Latency percentiles in milliseconds (50, 75, 90, 99 as wrk prints them). */
  latencyMs: Record<string, number>;
  /** connect + read + write + timeout socket errors. */
  socketErrors: number;
  /** Responses that were not 2xx or 3xx. */
  non2xx: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** wrk's durations: "273.00us", "1.44ms", "2.10s", "1.00m". */
export function parseDuration(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`not a wrk duration: '${text}'`);
  return Number(m[1]) * UNIT_MS[m[2]];
}

export function parseWrk(text: string): WrkResult {
  const total = /(\d+) requests in ([\d.]+\w+),/.exec(text);
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(text);
  if (!total || !rate) {
    throw new Error(`wrk printed no result: ${text.trim().slice(0, 300) || "(nothing)"}`);
  }
  const latencyMs: Record<string, number> = {};
  const dist = text.indexOf("Latency Distribution");
  if (dist >= 0) {
    for (const m of text.slice(dist).matchAll(/^\s+(\d+(?:\.\d+)?)%\s+([\d.]+\w+)\s*$/gm)) {
      latencyMs[m[1]] = parseDuration(m[2]);
    }
  }
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = errors
    ? Number(errors[1]) + Number(errors[2]) + Number(errors[3]) + Number(errors[4])
    : 0;
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  return {
    requests: Number(total[1]),
    seconds: parseDuration(total[2]) / 1000,
    requestsPerSecond: Number(rate[1]),
    latencyMs,
    socketErrors,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
  };
}
