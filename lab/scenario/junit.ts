// JUnit XML for CI: one <testsuite> per scenario, one <testcase> per assertion, a <failure>
// carrying the assertion's sentence; a step that could not be carried out or a lab that did
// not come up is an <error>. A PASS that holds only because capture loss excused missing
// packets (twins) says so: a property excusedByCaptureLoss and a <system-out> with its
// sentence on the testcase, their sum as a property of the suite and a line in its output.
import type { RunReport, ScenarioResult } from "./result.ts";

/** Escapes text for XML attributes and content (and drops characters XML 1.0 forbids). */
export function xmlEscape(text: string): string {
  return text
    // deno-lint-ignore no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

function suite(r: ScenarioResult): string {
  const cases: string[] = [];
  const cls = `lvslab.scenario.${r.name}`;
  let errors = 0;
  if (r.error) {
    errors++;
    cases.push(
      `    <testcase classname="${xmlEscape(cls)}" name="run" time="0">\n` +
        `      <error message="${xmlEscape(r.error.split("\n")[0])}">${
          xmlEscape(r.error)
        }</error>\n` +
        `    </testcase>`,
    );
  }
  let failures = 0;
  let excused = 0;
  const excusedLines: string[] = [];
  for (const a of r.assertions) {
    const head = `    <testcase classname="${xmlEscape(cls)}" name="${xmlEscape(a.name)}" time="0"`;
    if (a.passed && a.excusedByCaptureLoss) {
      excused += a.excusedByCaptureLoss;
      excusedLines.push(`excused by capture loss: ${a.name}: ${a.line}`);
      cases.push(
        `${head}>\n` +
          `      <properties>\n` +
          `        <property name="excusedByCaptureLoss" value="${a.excusedByCaptureLoss}"/>\n` +
          `      </properties>\n` +
          `      <system-out>${xmlEscape([a.line, ...a.details].join("\n"))}</system-out>\n` +
          `    </testcase>`,
      );
      continue;
    }
    if (a.passed) {
      cases.push(`${head}/>`);
      continue;
    }
    failures++;
    const body = [a.line, ...a.details].join("\n");
    cases.push(
      `${head}>\n      <failure message="${xmlEscape(a.line)}">${
        xmlEscape(body)
      }</failure>\n    </testcase>`,
    );
  }
  const out = [
    ...r.steps.map((s) => `${s.ok ? "ok  " : "FAIL"} ${s.label}: ${s.summary}`),
    ...excusedLines,
    ...r.samples,
    `artifacts: ${r.artifacts}`,
  ].join("\n");
  return `  <testsuite name="${
    xmlEscape(r.name)
  }" tests="${cases.length}" failures="${failures}" ` +
    `errors="${errors}" skipped="0" time="${seconds(r.durationMs)}" timestamp="${
      xmlEscape(r.startedAt)
    }" ` +
    `file="${xmlEscape(r.file)}">\n` +
    `    <properties>\n` +
    `      <property name="backend" value="${xmlEscape(r.backend)}"/>\n` +
    `      <property name="artifacts" value="${xmlEscape(r.artifacts)}"/>\n` +
    (excused ? `      <property name="excusedByCaptureLoss" value="${excused}"/>\n` : "") +
    `    </properties>\n` +
    cases.join("\n") + (cases.length ? "\n" : "") +
    `    <system-out>${xmlEscape(out)}</system-out>\n` +
    `  </testsuite>`;
}

/** The whole run as a JUnit XML document. */
export function junitXml(report: Pick<RunReport, "scenarios" | "durationMs">): string {
  const suites = report.scenarios.map(suite);
  let tests = 0;
  let failures = 0;
  let errors = 0;
  for (const r of report.scenarios) {
    tests += r.assertions.length + (r.error ? 1 : 0);
    failures += r.assertions.filter((a) => !a.passed).length;
    errors += r.error ? 1 : 0;
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="lvslab scenarios" tests="${tests}" failures="${failures}" errors="${errors}" ` +
    `time="${seconds(report.durationMs)}">\n` +
    suites.join("\n") + (suites.length ? "\n" : "") +
    `</testsuites>\n`;
}
