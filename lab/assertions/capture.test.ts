import { test } from "node:test";
import assert from "node:assert/strict";
import { assertCapturesComplete } from "./capture.ts";

const file = (segment: string, dropped: number | null) => ({
  segment,
  host: "director",
  device: "eth0",
  path: `/tmp/${segment}.pcap`,
  packetsCaptured: 10,
  droppedByKernel: dropped,
});

test("captures without drops pass; a drop fails and is named; no files fail", () => {
  const ok = assertCapturesComplete([file("public", 0), file("private", 0)]);
  assert.equal(ok.passed, true);
  assert.equal(ok.line, "PASS: the captures on public, private lost no packets");
  const bad = assertCapturesComplete([file("public", 0), file("tun", 17)]);
  assert.equal(bad.passed, false);
  assert.match(bad.line, /^FAIL: the captures lost packets \(17 on tun\)/);
  assert.equal(assertCapturesComplete([]).passed, false);
  assert.match(assertCapturesComplete([file("tun", null)]).line, /gave no counts for tun/);
});

test("requireCounts (capture: { complete: true }): a segment without counts fails", () => {
  const r = assertCapturesComplete([file("public", 0), file("tun", null)], { requireCounts: true });
  assert.equal(r.passed, false);
  assert.match(r.line, /^FAIL: tcpdump gave no counts for tun, so those captures cannot be shown/);
  assert.equal(
    assertCapturesComplete([file("public", 0)], { requireCounts: true }).passed,
    true,
  );
  assert.equal(
    assertCapturesComplete([file("public", 2)], { requireCounts: true }).passed,
    false,
  );
});
