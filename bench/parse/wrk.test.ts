import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDuration, parseWrk } from "./wrk.ts";

// Real wrk 4.1 output from the lab (through lvslab).
const OK = `Running 3s test @ http://203.0.113.5/
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.54ms  629.04us  10.87ms   88.24%
    Req/Sec     5.40k   840.29     7.11k    70.00%
  Latency Distribution
     50%    1.44ms
     75%    1.71ms
     90%    2.03ms
     99%    4.21ms
  16126 requests in 3.00s, 2.25MB read
Requests/sec:   5370.67
Transfer/sec:    765.74KB
`;

const ERRORS = `Running 2s test @ http://203.0.113.5/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   310.60us  112.42us 487.00us   80.00%
    Req/Sec    50.00      0.00    50.00    100.00%
  Latency Distribution
     50%  273.00us
     75%  348.00us
     90%  487.00us
     99%  487.00us
  5 requests in 2.00s, 730.00B read
  Socket errors: connect 12, read 3, write 0, timeout 31
  Non-2xx or 3xx responses: 2
Requests/sec:      2.49
Transfer/sec:     364.18B
`;

test("wrk durations in every unit", () => {
  assert.equal(parseDuration("273.00us"), 0.273);
  assert.equal(parseDuration("1.44ms"), 1.44);
  assert.equal(parseDuration("2.10s"), 2100);
  assert.equal(parseDuration("1.00m"), 60_000);
  assert.throws(() => parseDuration("fast"), /not a wrk duration/);
});

test("requests, rate and latency percentiles", () => {
  const r = parseWrk(OK);
  assert.equal(r.requests, 16126);
  assert.equal(r.seconds, 3);
  assert.equal(r.requestsPerSecond, 5370.67);
  assert.deepEqual(r.latencyMs, { "50": 1.44, "75": 1.71, "90": 2.03, "99": 4.21 });
  assert.equal(r.socketErrors, 0);
  assert.equal(r.non2xx, 0);
});

test("socket errors and non-2xx answers are counted", () => {
  const r = parseWrk(ERRORS);
  assert.equal(r.requests, 5);
  assert.equal(r.socketErrors, 12 + 3 + 0 + 31);
  assert.equal(r.non2xx, 2);
  assert.equal(r.latencyMs["50"], 0.273);
});

test("output without a result is an error, not a zero rate", () => {
  assert.throws(
    () => parseWrk("unable to connect to 203.0.113.5:http Connection refused"),
    /no result/,
  );
});
