// lab/scenario/: the scenario runner; start here. File format in schema.ts, step kinds in steps/,
// assertion kinds in assertions/, one file per kind.
//
// Runs scenarios: a lab per scenario on a backend, captures on every segment, the steps, then
// analysis and assertions; the lab is ALWAYS taken down. Writes report.json and junit.xml
// (per scenario and for the whole run) into the run's artifacts folder.
import fs from "node:fs";
import path from "node:path";
import type { LabBackend } from "../backend.ts";
import { REPO_ROOT } from "../paths.ts";
import type { Topology } from "../topology.ts";
import { createBackend } from "../backends.ts";
import type { CheckResult } from "./checks.ts";
import { CAPTURE_KINDS, evaluateClientAssertion } from "./assertions/index.ts";
import {
  analyseCaptures,
  capturesCompleteCheck,
  type CaptureSession,
  startCaptures,
} from "./capture-glue.ts";
import type { CaptureFile } from "../capture/capture.ts";
import { junitXml } from "./junit.ts";
import { verdict } from "../assertions/result.ts";
import type { RunReport, ScenarioResult } from "./result.ts";
import type { Scenario } from "./schema.ts";
import { StepRunner } from "./step-runner.ts";
import { scenarioTopology } from "./topology.ts";

export interface RunOptions {
  /** Backend kind (default "netns"). */
  backend?: string;
  /** The run's folder (default <repo>/artifacts/<timestamp>). */
  artifacts?: string;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Builds the backend of the scenario's topology; tests may pass their own (default createBackend). */
  makeBackend?: (kind: string, name: string, topology: Topology) => LabBackend;
}

/** "2025-01-31T12-00-00" (safe in file names). */
export function timestamp(date = new Date()): string {
  return date.toISOString().replace(/\..*$/, "").replace(/:/g, "-");
}

/** The default run folder: <repo>/artifacts/<timestamp>. */
export function defaultArtifactsDir(date = new Date()): string {
  return path.join(REPO_ROOT, "artifacts", timestamp(date));
}

function writeJson(file: string, data: unknown): void {
  fs.writeFileSync(file, JSON.stringify(data, null, 2) + "\n");
}

/** How long the teardown after a signal may take before the process exits anyway. */
const SIGNAL_TEARDOWN_MS = 60_000;

/**
 * While `body` runs, SIGINT or SIGTERM (Ctrl-C, a CI job cancelled) first takes the lab down,
 * then ends the process with 128 + the signal's number: a Compose lab would otherwise stay up
 * with its containers and networks. A second signal ends the process at once.
 */
async function tearDownOnSignal<T>(
  teardown: () => Promise<void>,
  log: (line: string) => void,
  body: () => Promise<T>,
): Promise<T> {
  let tearingDown = false;
  const handler = (signal: NodeJS.Signals) => {
    const code = 128 + (signal === "SIGINT" ? 2 : 15);
    if (tearingDown) process.exit(code);
    tearingDown = true;
    log(`${signal}: taking the lab down before exiting (again to exit at once)`);
    const bound = new Promise<void>((r) => setTimeout(r, SIGNAL_TEARDOWN_MS).unref());
    void Promise.race([teardown().catch(() => {}), bound]).finally(() => process.exit(code));
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  try {
    return await body();
  } finally {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  }
}

/**
 * Judges the scenario's assertions into `result`: client-side ones from the step outputs,
 * capture ones from the pcaps, in the order of the file.
 */
async function judge(
  scenario: Scenario,
  runner: StepRunner,
  captureFiles: CaptureFile[],
  result: ScenarioResult,
): Promise<void> {
  const clientAddress = scenarioTopology(scenario).hosts.find((h) => h.role === "client")!
    .interfaces[0].address.split("/")[0];
  const fromClients = scenario.assertions.map((spec) =>
    evaluateClientAssertion(spec, runner.outputs, runner.windows, clientAddress)
  );
  let fromCapture: CheckResult[][] = scenario.assertions.map(() => []);
  if (scenario.capture) {
    try {
      const analysed = await analyseCaptures(
        scenario,
        captureFiles,
        runner.outputs,
        runner.windows,
      );
      fromCapture = analysed.results;
      result.samples = analysed.samples;
      result.warnings.push(...analysed.warnings);
    } catch (err) {
      const why = (err as Error).message;
      fromCapture = scenario.assertions.map((spec) =>
        CAPTURE_KINDS.includes(spec.kind)
          ? [
            verdict(
              spec.kind,
              false,
              `${spec.kind} could not be judged: the capture analysis failed (${why})`,
            ),
          ]
          : []
      );
    }
  }
  result.assertions = scenario.assertions.flatMap((_, i) => [...fromClients[i], ...fromCapture[i]]);
  // capture: { complete: true }: a packet tcpdump lost anywhere fails the run.
  if (scenario.capture && scenario.captureComplete) {
    result.assertions.push(capturesCompleteCheck(captureFiles));
  }
}

/** Runs one scenario in `dir` (its artifacts folder); never throws. */
export async function runScenario(
  scenario: Scenario,
  dir: string,
  options: RunOptions = {},
): Promise<ScenarioResult> {
  const log = options.log ?? (() => {});
  const kind = options.backend ?? "netns";
  const started = Date.now();
  fs.mkdirSync(dir, { recursive: true });
  const result: ScenarioResult = {
    name: scenario.name,
    file: scenario.file,
    description: scenario.description,
    backend: kind,
    lab: scenario.lab,
    artifacts: dir,
    startedAt: new Date(started).toISOString(),
    durationMs: 0,
    status: "error",
    error: null,
    steps: [],
    assertions: [],
    samples: [],
    pcaps: [],
    warnings: [],
  };
  const finish = () => {
    result.durationMs = Date.now() - started;
    writeJson(path.join(dir, "report.json"), result);
    fs.writeFileSync(
      path.join(dir, "junit.xml"),
      junitXml({ scenarios: [result], durationMs: result.durationMs }),
    );
    return result;
  };

  const topology = scenarioTopology(scenario);
  let backend: LabBackend;
  try {
    backend = (options.makeBackend ?? createBackend)(kind, scenario.lab, topology);
  } catch (err) {
    result.error = (err as Error).message;
    return finish();
  }
  const config = path.join(dir, "services.yaml");
  fs.writeFileSync(config, scenario.servicesYaml);

  let ranSteps = false;
  let runner: StepRunner | null = null;
  let capture: CaptureSession | null = null;
  let captureFiles: CaptureFile[] = [];
  const onSignal = async () => {
    await runner?.cleanUp();
    await capture?.stop().catch(() => []);
    await backend.down();
    log(`lab '${scenario.lab}' is down`);
  };
  // Up, set up, steps, always down; a ScenarioResult here means it ended early.
  const early = await tearDownOnSignal(onSignal, log, async (): Promise<ScenarioResult | null> => {
    try {
      if (await backend.isUp()) {
        log(`lab '${scenario.lab}' is up from an earlier run; taking it down first`);
        await backend.down();
      }
      log(`bringing up lab '${scenario.lab}' (${kind}) for scenario ${scenario.name}`);
      try {
        await backend.up({ config, log: (l) => log(`  ${l}`) });
      } catch (err) {
        result.error = `the lab did not come up: ${(err as Error).message}`;
        return finish();
      }
      const deadline = Date.now() + scenario.timeoutSeconds * 1000;
      runner = new StepRunner(backend, scenario, dir, deadline, log);
      try {
        await runner.setUp();
        if (scenario.capture) capture = await startCaptures(backend, topology, dir, log);
      } catch (err) {
        result.error = `the scenario could not be set up: ${(err as Error).message}`;
        return finish();
      }
      ranSteps = true;
      const allRan = await runner.runAll();
      if (!allRan) {
        result.error = runner.records.find((r) => !r.ok)?.error ??
          "a step could not be carried out";
      }
    } catch (err) {
      result.error = (err as Error).message;
    } finally {
      if (runner) {
        result.warnings.push(...await runner.cleanUp());
        result.steps = runner.records;
      }
      if (capture) {
        try {
          captureFiles = await capture.stop();
          result.pcaps = captureFiles.map((f) => f.path);
        } catch (err) {
          result.warnings.push(`stopping the captures: ${(err as Error).message}`);
        }
      }
      try {
        await backend.down();
        log(`lab '${scenario.lab}' is down`);
      } catch (err) {
        result.warnings.push(`taking the lab down: ${(err as Error).message}`);
      }
    }
    return null;
  });
  if (early) return early;
  if (!ranSteps) return finish();

  await judge(scenario, runner!, captureFiles, result);
  result.status = !result.error && result.assertions.every((a) => a.passed) ? "passed" : "failed";
  return finish();
}

/** Runs scenarios one after another into one run folder; writes the run's report and JUnit. */
export async function runScenarios(
  scenarios: readonly Scenario[],
  options: RunOptions = {},
  onResult?: (r: ScenarioResult) => void,
): Promise<RunReport> {
  const started = Date.now();
  const artifacts = path.resolve(options.artifacts ?? defaultArtifactsDir(new Date(started)));
  fs.mkdirSync(artifacts, { recursive: true });
  const report: RunReport = {
    startedAt: new Date(started).toISOString(),
    durationMs: 0,
    backend: options.backend ?? "netns",
    artifacts,
    scenarios: [],
  };
  const used = new Set<string>();
  for (const scenario of scenarios) {
    let folder = scenario.name;
    for (let n = 2; used.has(folder); n++) folder = `${scenario.name}-${n}`;
    used.add(folder);
    const r = await runScenario(scenario, path.join(artifacts, folder), options);
    report.scenarios.push(r);
    onResult?.(r);
  }
  report.durationMs = Date.now() - started;
  writeJson(path.join(artifacts, "report.json"), report);
  fs.writeFileSync(path.join(artifacts, "junit.xml"), junitXml(report));
  return report;
}
