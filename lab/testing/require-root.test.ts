import { test } from "node:test";
import assert from "node:assert/strict";
import { requireRoot } from "./require-root.ts";

function fakeContext() {
  const skipped: (string | undefined)[] = [];
  return { skipped, t: { skip: (message?: string) => void skipped.push(message) } };
}

function withCI<T>(value: string | undefined, fn: () => T): T {
  const saved = process.env.CI;
  if (value === undefined) delete process.env.CI;
  else process.env.CI = value;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.CI;
    else process.env.CI = saved;
  }
}

test("without a blocker the lab test runs", () => {
  const { t, skipped } = fakeContext();
  assert.equal(withCI("true", () => requireRoot(t, null)), true);
  assert.deepEqual(skipped, []);
});

test("outside CI a blocked lab test skips and says why", () => {
  const { t, skipped } = fakeContext();
  assert.equal(withCI(undefined, () => requireRoot(t, "needs root")), false);
  assert.deepEqual(skipped, ["needs root"]);
});

test("in CI a blocked lab test fails", () => {
  const { t, skipped } = fakeContext();
  assert.throws(
    () => withCI("true", () => requireRoot(t, "needs root")),
    /must run in CI.*needs root/,
  );
  assert.deepEqual(skipped, []);
});
