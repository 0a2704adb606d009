// `lvslab run <scenario>... | --all`: runs scenario files on a lab backend and reports.
// Exit codes: 0 every scenario passed, 1 something failed, 2 nothing ran (a bad file, no
// scenarios, or no lab came up).
import fs from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { REPO_ROOT, userPath } from "../paths.ts";
import { availableBackends, createBackend } from "../backends.ts";
import { runSummary, scenarioReport } from "../scenario/human-report.ts";
import { exitCode } from "../scenario/result.ts";
import { runScenarios } from "../scenario/runner.ts";
import { DEFAULT_SCENARIO_LAB, loadScenario, type Scenario } from "../scenario/schema.ts";
import { checkLabName } from "../topology.ts";

export const SCENARIO_DIR = path.join(REPO_ROOT, "scenarios");

/** Every scenario file of scenarios/, sorted. */
export function allScenarioFiles(dir = SCENARIO_DIR): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(dir, f));
}

/** A path (relative to the user's cwd) or a name in scenarios/ ("article", "article.yaml"). */
export function resolveScenario(arg: string, dir = SCENARIO_DIR): string {
  const given = userPath(arg);
  if (fs.existsSync(given)) return given;
  for (const candidate of [arg, `${arg}.yaml`, `${arg}.yml`]) {
    const p = path.join(dir, candidate);
    if (fs.existsSync(p)) return p;
  }
  const names = allScenarioFiles(dir).map((f) => path.basename(f).replace(/\.ya?ml$/, ""));
  throw new Error(
    `no scenario file '${arg}'; give a path or one of: ${
      names.join(", ") || "(scenarios/ is empty)"
    }`,
  );
}

/** Loads every file, collecting all problems; throws them together. */
export function loadAll(files: string[]): Scenario[] {
  const problems: string[] = [];
  const scenarios: Scenario[] = [];
  for (const f of files) {
    try {
      scenarios.push(loadScenario(f));
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (problems.length) throw new Error(problems.join("\n"));
  return scenarios;
}

export interface RunCliOptions {
  all?: boolean;
  backend: string;
  artifacts?: string;
  json?: boolean;
  details?: boolean;
  /** The lab to run on, instead of each file's `lab` (so two runs can share a machine). */
  name?: string;
}

/** The verb's body; returns the exit code. */
export async function runVerb(args: string[], opts: RunCliOptions): Promise<0 | 1 | 2> {
  const fail = (message: string): 2 => {
    console.error(`lvslab: ${message}`);
    return 2;
  };
  try {
    if (opts.name !== undefined) checkLabName(opts.name);
    createBackend(opts.backend, opts.name ?? DEFAULT_SCENARIO_LAB);
  } catch (err) {
    return fail((err as Error).message);
  }
  if (opts.all && args.length) return fail("give scenario files or --all, not both");
  let files: string[];
  try {
    files = opts.all ? allScenarioFiles() : args.map((a) => resolveScenario(a));
  } catch (err) {
    return fail((err as Error).message);
  }
  if (files.length === 0) {
    return fail(
      opts.all
        ? `there are no scenario files in ${SCENARIO_DIR}`
        : "give a scenario file, or --all",
    );
  }
  let scenarios: Scenario[];
  try {
    scenarios = loadAll(files).map((s) => opts.name === undefined ? s : { ...s, lab: opts.name });
  } catch (err) {
    return fail(`nothing was run; fix these scenario files first:\n${(err as Error).message}`);
  }
  try {
    // Whatever the backend needs (root for namespaces, an engine for Compose), asked before
    // any scenario starts.
    await createBackend(opts.backend, opts.name ?? DEFAULT_SCENARIO_LAB).isUp();
  } catch (err) {
    return fail(`nothing was run: ${(err as Error).message}`);
  }
  const human = !opts.json;
  const report = await runScenarios(
    scenarios,
    {
      backend: opts.backend,
      artifacts: opts.artifacts ? userPath(opts.artifacts) : undefined,
      log: human ? (l) => console.log(l) : undefined,
    },
    human
      ? (r) => {
        console.log("");
        for (const l of scenarioReport(r, { details: opts.details })) console.log(l);
        console.log("");
      }
      : undefined,
  );
  if (human) {
    for (const l of runSummary(report)) console.log(l);
  } else {
    console.log(JSON.stringify(report, null, 2));
  }
  return exitCode(report.scenarios);
}

export function runCommand(): Command {
  return new Command("run")
    .description("run scenario files (scenarios/*.yaml) and report PASS/FAIL per assertion")
    .argument("[scenarios...]", "scenario files, or names in scenarios/ (e.g. article)")
    .option("--all", "run every scenario in scenarios/")
    .option(
      "--backend <kind>",
      `lab backend (${availableBackends().join(", ")} in this build)`,
      "netns",
    )
    .option("--artifacts <dir>", "run folder for pcaps, logs, report.json, junit.xml")
    .option("--json", "print the run report as JSON instead of the human report")
    .option("--details", "print every assertion's details, not only failing ones'")
    .option(
      "--name <lab>",
      `the lab to run on, instead of each file's lab (default ${DEFAULT_SCENARIO_LAB}); ` +
        "two runs at once need two names",
    )
    .action(async (args: string[], opts: RunCliOptions) => {
      try {
        process.exitCode = await runVerb(args, opts);
      } catch (err) {
        console.error(`lvslab: ${(err as Error).message}`);
        process.exitCode = 1;
      }
    });
}
