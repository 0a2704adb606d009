import { test } from "node:test";
import assert from "node:assert/strict";
import { checkLoadOptions, type RequestResult, summarize } from "./http-load.ts";

const base = { url: "http://203.0.113.5/", count: 12, concurrency: 1, timeoutMs: 3000 };

function okResult(index: number, server: string, serverAddress: string): RequestResult {
  return {
    index,
    ok: true,
    status: 200,
    attribution: { server, serverAddress, clientAddress: "198.51.100.2:1000" },
    error: null,
    ms: 1,
  };
}

test("options are bounded", () => {
  checkLoadOptions(base);
  assert.throws(() => checkLoadOptions({ ...base, count: 0 }), /--count must be .* 1 to 100000/);
  assert.throws(() => checkLoadOptions({ ...base, count: 1e9 }), /--count/);
  assert.throws(() => checkLoadOptions({ ...base, count: NaN }), /--count/);
  assert.throws(() => checkLoadOptions({ ...base, concurrency: 1000 }), /--concurrency/);
  assert.throws(() => checkLoadOptions({ ...base, timeoutMs: 0 }), /--timeout-ms/);
  assert.throws(() => checkLoadOptions({ ...base, url: "nope" }), /is not a URL/);
  assert.throws(() => checkLoadOptions({ ...base, url: "https://203.0.113.5/" }), /http:\/\//);
});

test("summary counts answers per server and lists failures", () => {
  const results: RequestResult[] = [
    okResult(1, "rs1", "172.16.0.2:80"),
    okResult(2, "rs2", "172.16.0.3:8000"),
    okResult(3, "rs2", "172.16.0.3:8000"),
    {
      index: 4,
      ok: false,
      status: null,
      attribution: null,
      error: "ECONNREFUSED connect",
      ms: 2,
    },
  ];
  assert.deepEqual(summarize(results), {
    total: 4,
    ok: 3,
    failed: 1,
    byServer: { rs1: 1, rs2: 2 },
    byServerAddress: { "rs1 172.16.0.2:80": 1, "rs2 172.16.0.3:8000": 2 },
    errors: ["#4: ECONNREFUSED connect"],
  });
  assert.deepEqual(summarize([]).total, 0);
});
