import { test } from "node:test";
import assert from "node:assert/strict";
import { RateEstimator } from "./rate-estimator.ts";
import { newStats } from "./types.ts";

test("a steady load converges to its per-second rate, a stop decays to zero", () => {
  const stats = newStats();
  const est = new RateEstimator();
  // 100 connections, 1000 packets and 1 MB per second in, sampled every 2 s.
  for (let i = 0; i < 80; i++) {
    stats.conns += 200;
    stats.inpkts += 2000;
    stats.inbytes += 2_000_000;
    est.sample(stats);
  }
  const steady = est.read();
  assert.equal(steady.cps, 100);
  assert.equal(steady.inpps, 1000);
  assert.equal(steady.inbps, 1_000_000);
  assert.equal(steady.outpps, 0);
  // One sample after the load stops: a quarter of the way down, as IPVS's 1/4 weight.
  est.sample(stats);
  assert.equal(est.read().cps, 75);
  for (let i = 0; i < 60; i++) est.sample(stats);
  assert.equal(est.read().cps, 0);
});

test("the first sample after a burst shows a quarter of it", () => {
  const stats = newStats();
  const est = new RateEstimator();
  stats.conns = 800; // 400/s over one 2 s interval
  est.sample(stats);
  assert.equal(est.read().cps, 100);
});
