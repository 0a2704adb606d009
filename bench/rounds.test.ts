import { test } from "node:test";
import assert from "node:assert/strict";
import { medianOfRounds } from "./rounds.ts";
import type { Measurement } from "./types.ts";

const m = (metric: string, value: number | null): Measurement => ({
  metric,
  peer: "lvslab",
  value,
});

test("one round is kept as it is", () => {
  const round = [m("tcp1Up", 12)];
  assert.deepEqual(medianOfRounds([round]), round);
});

test("the median of the rounds, with each round's value kept", () => {
  const folded = medianOfRounds([
    [m("tcp1Up", 12), m("udpPps", 80_000)],
    [m("tcp1Up", 9), m("udpPps", 90_000)],
    [m("tcp1Up", 14), m("udpPps", 85_000)],
  ]);
  assert.deepEqual(folded, [
    { metric: "tcp1Up", peer: "lvslab", value: 12, samples: [12, 9, 14] },
    { metric: "udpPps", peer: "lvslab", value: 85_000, samples: [80_000, 90_000, 85_000] },
  ]);
});

test("an even count averages the middle two; rounds without a value are left out", () => {
  const folded = medianOfRounds([[m("connRate", 10)], [m("connRate", null)], [m("connRate", 20)]]);
  assert.equal(folded[0].value, 15);
  assert.deepEqual(folded[0].samples, [10, null, 20]);
  assert.equal(medianOfRounds([[m("x", null)], [m("x", null)]])[0].value, null);
});
