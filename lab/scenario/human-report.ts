// The report a person reads after `lvslab run`: per scenario its steps, a PASS/FAIL line per
// assertion, sample packets before and after the director, and where the artifacts are.
import path from "node:path";
import type { RunReport, ScenarioResult } from "./result.ts";

function rel(p: string): string {
  const r = path.relative(process.cwd(), p);
  return r && !r.startsWith("..") ? r : p;
}

/** Lines describing one scenario's run. */
export function scenarioReport(r: ScenarioResult, options: { details?: boolean } = {}): string[] {
  const lines: string[] = [];
  lines.push(`== scenario ${r.name} (${rel(r.file)}) on ${r.backend}, lab '${r.lab}'`);
  if (r.description) lines.push(`   ${r.description.trim().replace(/\s*\n\s*/g, " ")}`);
  if (r.steps.length) {
    lines.push("   steps:");
    for (const s of r.steps) {
      lines.push(
        `     ${s.ok ? "ok  " : "FAIL"} ${s.label} (${
          ((s.endedAt - s.startedAt) / 1000).toFixed(1)
        } s): ${s.summary}`,
      );
    }
  }
  if (r.error) lines.push(`   ERROR ${r.error.replace(/\n/g, "\n         ")}`);
  if (r.assertions.length) {
    lines.push("   assertions:");
    for (const a of r.assertions) {
      lines.push(`     ${a.line}`);
      if (!a.passed || options.details) {
        for (const d of a.details.slice(0, 8)) lines.push(`         ${d}`);
      }
    }
  }
  if (r.samples.length) {
    lines.push("   packets before and after the director (the article's SOURCE/DEST form):");
    for (const s of r.samples) lines.push(`     ${s}`);
  }
  for (const w of r.warnings) lines.push(`   warning: ${w}`);
  const failed = r.assertions.filter((a) => !a.passed).length;
  const excused = r.assertions.filter((a) => a.passed && a.excusedByCaptureLoss);
  const excusedNote = excused.length
    ? ` (${excused.length} of them passed with ${
      excused.reduce((n, a) => n + a.excusedByCaptureLoss!, 0)
    } packets excused by capture loss)`
    : "";
  const verdict = r.status === "passed"
    ? "PASSED"
    : r.status === "failed"
    ? "FAILED"
    : "DID NOT RUN";
  lines.push(
    `   ${verdict}: ${r.assertions.length - failed} of ${r.assertions.length} assertions held` +
      `${excusedNote}, ` +
      `${(r.durationMs / 1000).toFixed(1)} s; artifacts in ${rel(r.artifacts)}` +
      (r.pcaps.length ? ` (${r.pcaps.map((p) => path.basename(p)).join(", ")})` : ""),
  );
  return lines;
}

/**
 * What went wrong in one scenario, in a few lines (failing steps, the error, failing
 * assertions): a test puts them before the full report, which CI logs may cut.
 */
export function failureHeadline(r: ScenarioResult): string[] {
  return [
    ...r.steps.filter((s) => !s.ok).map((s) => `failed step ${s.label}: ${s.summary}`),
    ...(r.error ? [`error: ${r.error}`] : []),
    ...r.assertions.filter((a) => !a.passed).map((a) => a.line),
  ];
}

/** The closing lines of a run. */
export function runSummary(report: RunReport): string[] {
  const count = (s: string) => report.scenarios.filter((r) => r.status === s).length;
  return [
    `${report.scenarios.length} scenario(s) in ${(report.durationMs / 1000).toFixed(1)} s: ` +
    `${count("passed")} passed, ${count("failed")} failed, ${count("error")} did not run`,
    `report: ${rel(path.join(report.artifacts, "report.json"))}, ` +
    `JUnit: ${rel(path.join(report.artifacts, "junit.xml"))}`,
  ];
}
