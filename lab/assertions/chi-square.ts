// The chi-square distribution's survival function (the p-value of a goodness-of-fit test),
// from the regularized incomplete gamma function: series below a+1, continued fraction above
// (the classic split; both converge fast there).

const EPS = 1e-15;
const TINY = 1e-300;
const MAX_ITERATIONS = 10_000;

// Lanczos approximation, g = 7, n = 9: about 15 significant digits.
const LANCZOS = [
  0.99999999999980993,
  676.5203681218851,
  -1259.1392167224028,
  771.32342877765313,
  -176.61502916214059,
  12.507343278686905,
  -0.13857109526572012,
  9.9843695780195716e-6,
  1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0. */
export function lnGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`lnGamma needs x > 0, got ${x}`);
  if (x < 0.5) {
    // Reflection: Γ(x) Γ(1-x) = π / sin(πx).
    return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  }
  const z = x - 1;
  let a = LANCZOS[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularized lower incomplete gamma P(a, x) by its series (good for x < a + 1). */
function gammaSeries(a: number, x: number): number {
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n < MAX_ITERATIONS; n++) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * EPS) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - lnGamma(a));
}

/** Regularized upper incomplete gamma Q(a, x) by Lentz's continued fraction (x ≥ a + 1). */
function gammaContinuedFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return Math.exp(-x + a * Math.log(x) - lnGamma(a)) * h;
}

/** Regularized upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a). */
export function regularizedGammaQ(a: number, x: number): number {
  if (!(a > 0)) throw new RangeError(`the gamma shape must be > 0, got ${a}`);
  if (x <= 0) return 1;
  return x < a + 1 ? 1 - gammaSeries(a, x) : gammaContinuedFraction(a, x);
}

/** P(X ≥ x) for X chi-square distributed with `df` degrees of freedom: the p-value. */
export function chiSquareSurvival(x: number, df: number): number {
  if (!Number.isInteger(df) || df < 1) {
    throw new RangeError(`degrees of freedom must be a whole number ≥ 1, got ${df}`);
  }
  return regularizedGammaQ(df / 2, x / 2);
}

export interface ChiSquareResult {
  statistic: number;
  df: number;
  pValue: number;
  expected: number[];
}

/**
 * Pearson's goodness-of-fit test of observed counts against expected proportions
 * (weights, normalised here). Categories with weight 0 must be left out by the caller.
 */
export function chiSquareTest(
  observed: readonly number[],
  weights: readonly number[],
): ChiSquareResult {
  if (observed.length !== weights.length || observed.length < 2) {
    throw new RangeError("the test needs at least two categories, with one weight each");
  }
  const total = observed.reduce((s, n) => s + n, 0);
  const weightSum = weights.reduce((s, w) => s + w, 0);
  if (!(weightSum > 0) || weights.some((w) => !(w > 0))) {
    throw new RangeError("every weight in the test must be > 0");
  }
  const expected = weights.map((w) => (total * w) / weightSum);
  let statistic = 0;
  observed.forEach((o, i) => {
    statistic += (o - expected[i]) ** 2 / expected[i];
  });
  const df = observed.length - 1;
  return { statistic, df, pValue: chiSquareSurvival(statistic, df), expected };
}
