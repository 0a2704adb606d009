import { test } from "node:test";
import assert from "node:assert/strict";
import { chiSquareSurvival, chiSquareTest, lnGamma, regularizedGammaQ } from "./chi-square.ts";

function close(actual: number, expected: number, rel = 1e-9): void {
  assert.ok(
    Math.abs(actual - expected) <= rel * Math.max(Math.abs(expected), 1e-300),
    `${actual} is not ${expected}`,
  );
}

test("lnGamma matches factorials and Γ(1/2) = √π", () => {
  close(lnGamma(0.5), Math.log(Math.sqrt(Math.PI)));
  assert.ok(Math.abs(lnGamma(1)) < 1e-12);
  assert.ok(Math.abs(lnGamma(2)) < 1e-12);
  close(lnGamma(10), Math.log(362880));
  close(lnGamma(101), 363.73937555556347); // ln(100!)
  close(lnGamma(0.1), 2.252712651734206);
});

test("chi-square survival matches tabulated critical values", () => {
  // Standard table: the value exceeded with probability alpha.
  const table: [number, number, number][] = [
    [3.841458820694124, 1, 0.05],
    [6.634896601021214, 1, 0.01],
    [10.827566170662733, 1, 0.001],
    [13.815510557964274, 2, 0.001],
    [11.070497693516351, 5, 0.05],
    [18.307038053275146, 10, 0.05],
    [124.34211340400407, 100, 0.05],
  ];
  for (const [x, df, alpha] of table) close(chiSquareSurvival(x, df), alpha, 1e-8);
});

test("with 2 degrees of freedom the survival is exactly exp(-x/2)", () => {
  for (const x of [0.001, 0.5, 1, 2.9, 3, 10, 50, 300]) {
    close(chiSquareSurvival(x, 2), Math.exp(-x / 2), 1e-10);
  }
});

test("edges: 0 gives 1, far tails stay positive and tiny, bad df is refused", () => {
  assert.equal(chiSquareSurvival(0, 3), 1);
  close(chiSquareSurvival(1, 1), 0.31731050786291415, 1e-10);
  const far = chiSquareSurvival(400, 1);
  assert.ok(far > 0 && far < 1e-80, String(far));
  close(regularizedGammaQ(1, 5), Math.exp(-5), 1e-12);
  assert.throws(() => chiSquareSurvival(1, 0), /degrees of freedom/);
  assert.throws(() => chiSquareSurvival(1, 1.5), /degrees of freedom/);
});

test("Pearson's test: counts that follow the weights pass, skewed ones do not", () => {
  const fair = chiSquareTest([1000, 2000], [1, 2]);
  assert.equal(fair.statistic, 0);
  assert.equal(fair.pValue, 1);
  assert.deepEqual(fair.expected, [1000, 2000]);
  const skewed = chiSquareTest([1500, 1500], [1, 2]);
  // (500²/1000 + 500²/2000) = 375
  close(skewed.statistic, 375);
  assert.equal(skewed.df, 1);
  assert.ok(skewed.pValue < 1e-80);
  assert.throws(() => chiSquareTest([1], [1]), /two categories/);
  assert.throws(() => chiSquareTest([1, 2], [1, 0]), /> 0/);
});
