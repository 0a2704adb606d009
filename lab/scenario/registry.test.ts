// The step and assertion registries (steps/index.ts, assertions/index.ts): every registered
// kind is documented in scenarios/README.md and every documented one is registered, and the
// lists derived from the tables are the ones the runner has always used.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ASSERTION_KINDS, ASSERTION_TABLE, CAPTURE_KINDS } from "./assertions/index.ts";
import { RESULT_STEPS, STEP_KINDS, STEP_TABLE } from "./steps/index.ts";

const README = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../scenarios/README.md",
);

/** The kinds named in the first column of the table under a README heading ("`kind: ...`"). */
function documentedKinds(heading: string): string[] {
  const text = fs.readFileSync(README, "utf8");
  const start = text.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `scenarios/README.md has no '${heading}'`);
  const section = text.slice(start + heading.length + 2).split(/\n#{2,3} /)[0];
  const kinds: string[] = [];
  for (const line of section.split("\n")) {
    if (!line.startsWith("| `")) continue;
    const first = line.split("|")[1];
    for (const m of first.matchAll(/`([a-z][a-z-]*):/g)) kinds.push(m[1]);
  }
  return kinds;
}

test("every step kind is documented in scenarios/README.md, and only those", () => {
  assert.deepEqual([...documentedKinds("### Steps")].sort(), [...STEP_KINDS].sort());
});

test("every assertion kind is documented in scenarios/README.md, and only those", () => {
  assert.deepEqual([...documentedKinds("### Assertions")].sort(), [...ASSERTION_KINDS].sort());
});

test("each kind is registered once, with a one-line description", () => {
  for (const table of [STEP_TABLE, ASSERTION_TABLE]) {
    const kinds = table.map((d) => d.kind);
    assert.equal(new Set(kinds).size, kinds.length);
    for (const d of table) {
      assert.ok(d.description.length > 0 && !d.description.includes("\n"), d.kind);
    }
  }
});

test("the derived lists: steps with a result, assertions that read the captures", () => {
  assert.deepEqual(RESULT_STEPS, ["http", "udp", "probe", "hold", "ftp", "table", "arp"]);
  assert.deepEqual(CAPTURE_KINDS, [
    "distribution",
    "rewrite",
    "one-connection-one-server",
    "outcomes",
    "payload",
    "direct-routing",
    "tunnel",
    "tshark",
    "pmtu",
  ]);
});
