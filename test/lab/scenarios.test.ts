// Every scenario in scenarios/ on the netns backend, through the runner's API: each must pass.
// Needs root (skips without, fails under CI=true). Artifacts go to a temporary folder.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { requireRoot } from "../../lab/testing/require-root.ts";
import { allScenarioFiles, loadAll } from "../../lab/cli/run.ts";
import { runScenario } from "../../lab/scenario/runner.ts";
import { failureHeadline, scenarioReport } from "../../lab/scenario/human-report.ts";

const files = allScenarioFiles();
const artifacts = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-scenarios-"));

test("scenarios/ holds the scenarios the lab promises", () => {
  const names = files.map((f) => path.basename(f, ".yaml"));
  for (
    const n of ["article", "ftp", "udp", "keepalive", "timeouts", "weight-change", "server-stopped"]
  ) {
    assert.ok(names.includes(n), `scenarios/${n}.yaml is missing`);
  }
  // Every scheduler appears in some scenario's service table.
  const schedulers = new Set(
    loadAll(files).flatMap((s) => s.services.services.map((v) => v.scheduler)),
  );
  for (
    const s of [
      "rr",
      "wrr",
      "lc",
      "wlc",
      "sed",
      "nq",
      "lblc",
      "lblcr",
      "dh",
      "sh",
      "mh",
      "fo",
      "ovf",
      "twos",
    ]
  ) {
    assert.ok(schedulers.has(s), `no scenario uses scheduler ${s}`);
  }
});

for (const file of files) {
  const name = path.basename(file, ".yaml");
  test(`scenario ${name} passes on the netns backend`, { timeout: 240_000 }, async (t) => {
    if (!requireRoot(t)) return;
    const [scenario] = loadAll([file]);
    const result = await runScenario(scenario, path.join(artifacts, name), { backend: "netns" });
    const report = [...failureHeadline(result), ...scenarioReport(result)].join("\n");
    assert.equal(result.status, "passed", report);
    assert.ok(result.assertions.length > 0);
    assert.ok(fs.existsSync(path.join(artifacts, name, "junit.xml")));
    if (scenario.capture) {
      assert.ok(result.pcaps.some((p) => p.endsWith("public.pcap")), report);
      assert.ok(
        result.samples.length > 0 || !scenario.steps.some((s) => s.kind === "http"),
        report,
      );
    }
  });
}
