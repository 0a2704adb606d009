// What a scenario run produced, in one plain-data shape: report.json is this, the JUnit XML
// and the human report are views of it.
import type { CheckResult } from "./checks.ts";
import type { StepRecord } from "./step-runner.ts";

export type ScenarioStatus = "passed" | "failed" | "error";

export interface ScenarioResult {
  name: string;
  file: string;
  description: string;
  backend: string;
  lab: string;
  /** This scenario's artifacts folder (pcaps, logs, its own report.json and junit.xml). */
  artifacts: string;
  startedAt: string;
  durationMs: number;
  /** passed: every assertion held; failed: a step or an assertion failed; error: nothing ran. */
  status: ScenarioStatus;
  /** Why the run stopped early (the lab did not come up, a step could not be carried out). */
  error: string | null;
  steps: StepRecord[];
  assertions: CheckResult[];
  /** Packet pairs before and after the director, in the article's SOURCE/DEST form. */
  samples: string[];
  pcaps: string[];
  warnings: string[];
}

export interface RunReport {
  startedAt: string;
  durationMs: number;
  backend: string;
  /** The run's folder: report.json, junit.xml and one folder per scenario. */
  artifacts: string;
  scenarios: ScenarioResult[];
}

/** 0 all passed, 1 something failed, 2 nothing ran (no scenarios, or none got a lab). */
export function exitCode(results: readonly ScenarioResult[]): 0 | 1 | 2 {
  if (results.length === 0 || results.every((r) => r.status === "error")) return 2;
  return results.every((r) => r.status === "passed") ? 0 : 1;
}
