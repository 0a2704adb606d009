// lab/testing/: helpers for the lab tests (root rule, fixtures, fakes).
//
// The one rule for lab tests that need root: skip with a reason on a developer's machine, but
// FAIL under CI=true, where a lab test that cannot run is a failure (DESIGN.md conventions).
import { spawnSync } from "node:child_process";
import type { TestContext } from "node:test";
import { isRoot } from "../root.ts";

/** Why lab tests cannot run here, or null when they can. */
export function labTestBlocker(): string | null {
  if (!isRoot()) {
    return "lab tests need root (network namespaces); run them with sudo";
  }
  const ip = spawnSync("ip", ["-V"], { encoding: "utf8" });
  if (ip.error || ip.status !== 0) return "lab tests need iproute2's 'ip' command";
  return null;
}

/**
 * Call first in a lab test: `if (!requireRoot(t)) return;`. Returns true when the test can
 * run; otherwise skips it (printing why) or, with CI=true, throws so the test fails.
 */
export function requireRoot(
  t: Pick<TestContext, "skip">,
  blocker: string | null = labTestBlocker(),
): boolean {
  if (blocker === null) return true;
  if (process.env.CI === "true") {
    throw new Error(`this lab test must run in CI but cannot: ${blocker}`);
  }
  console.error(`skipping lab test: ${blocker}`);
  t.skip(blocker);
  return false;
}
