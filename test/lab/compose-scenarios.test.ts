// Every scenario of scenarios/ on the Compose backend, through the runner's API: the same
// scenario files and assertions as on netns must pass in containers, and each run leaves no
// container, network or volume of its project. Needs root and a Docker engine:
// skipped with the reason on a developer's machine without them, a failure under CI=true.
import { scenarioTopology } from "../../lab/scenario/topology.ts";
import { captureSegments } from "../../lab/capture/segments.ts";
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { requireRoot } from "../../lab/testing/require-root.ts";
import { composeTestBlocker } from "../../lab/compose/test-blocker.ts";
import { allScenarioFiles, loadAll } from "../../lab/cli/run.ts";
import { runScenario } from "../../lab/scenario/runner.ts";
import { failureHeadline, scenarioReport } from "../../lab/scenario/human-report.ts";

/** A project name of its own, so a user's `lvslab run --backend compose` is not touched. */
const PROJECT = "lvscmpscn";
const blocker = composeTestBlocker();
const artifacts = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-compose-scenarios-"));

async function projectResources(): Promise<string[]> {
  const docker = new Docker();
  const filters = { label: [`com.docker.compose.project=${PROJECT}`] };
  const containers = await docker.listContainers({ all: true, filters });
  const networks = await docker.listNetworks({ filters });
  const volumes = (await docker.listVolumes({ filters })).Volumes ?? [];
  return [
    ...containers.map((c) => `container ${c.Names[0]}`),
    ...networks.map((n) => `network ${n.Name}`),
    ...volumes.map((v) => `volume ${v.Name}`),
  ];
}

for (const file of allScenarioFiles()) {
  const name = path.basename(file, ".yaml");
  test(`scenario ${name} passes on the compose backend`, { timeout: 600_000 }, async (t) => {
    if (!requireRoot(t, blocker)) return;
    const [loaded] = loadAll([file]);
    const scenario = { ...loaded, lab: PROJECT };
    const result = await runScenario(scenario, path.join(artifacts, name), {
      backend: "compose",
      log: (line) => console.error(`compose-scenarios ${name}: ${line}`),
    });
    const report = [...failureHeadline(result), ...scenarioReport(result)].join("\n");
    assert.equal(result.backend, "compose");
    assert.equal(result.status, "passed", report);
    assert.ok(result.assertions.length >= scenario.assertions.length, report);
    // A pcap of every capture point the scenario's topology has (lab/capture/segments.ts).
    for (const { segment } of captureSegments(scenarioTopology(scenario))) {
      assert.ok(result.pcaps.some((p) => p.endsWith(`${segment}.pcap`)), report);
    }
    assert.ok(fs.existsSync(path.join(artifacts, name, "junit.xml")));
    assert.deepEqual(await projectResources(), [], "the lab was taken down completely");
  });
}
