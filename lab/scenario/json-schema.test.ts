// scenarios/schema.json against the runner: the committed file is what the zod schemas make,
// every scenario file names it and is valid under it (checked by ajv, a validator that is not
// ours), and wrong files are refused by both, the schema and parseScenario.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Ajv } from "ajv";
import YAML from "yaml";
import { allScenarioFiles } from "../cli/run.ts";
import { parseScenario } from "./schema.ts";
import { scenarioJsonSchemaText, SCHEMA_FILE, SCHEMA_REFERENCE } from "./json-schema.ts";

const schema = JSON.parse(fs.readFileSync(SCHEMA_FILE, "utf8"));
// strict: false, since zod writes `default` and `examples` keywords ajv's strict mode dislikes.
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

test("scenarios/schema.json is what lab/scenario/json-schema.ts makes (npm run schema)", () => {
  assert.equal(fs.readFileSync(SCHEMA_FILE, "utf8"), scenarioJsonSchemaText());
});

for (const file of allScenarioFiles()) {
  test(`${path.basename(file)} names the schema and is valid under it and for the runner`, () => {
    const text = fs.readFileSync(file, "utf8");
    assert.equal(text.split("\n")[0], SCHEMA_REFERENCE);
    const ok = validate(YAML.parse(text));
    assert.ok(ok, JSON.stringify(validate.errors?.slice(0, 3), null, 2));
    assert.doesNotThrow(() => parseScenario(text, file));
  });
}

const SERVICES = `services:
  services:
    - { protocol: tcp, address: 203.0.113.5, port: 80, scheduler: rr,
        servers: [{ address: 172.16.0.2, port: 80 }] }
`;
const GOOD =
  `${SERVICES}steps:\n  - http: { id: a, connections: 4 }\nassertions:\n  - rewrite: {}\n`;

const WRONG: Record<string, string> = {
  "an unknown top-level key": `colour: blue\n${GOOD}`,
  "an unknown step kind": GOOD.replace("- http: { id: a, connections: 4 }", "- teleport: {}"),
  "a step with two kinds": GOOD.replace(
    "- http: { id: a, connections: 4 }",
    "- { wait: 1, http: {} }",
  ),
  "a wrong type in a step": GOOD.replace("connections: 4", 'connections: "four"'),
  "an unknown assertion kind": GOOD.replace("- rewrite: {}", "- vibes: {}"),
  "no steps": `${SERVICES}steps: []\nassertions:\n  - rewrite: {}\n`,
  "a service without protocol": GOOD.replace("protocol: tcp, ", ""),
  "an unknown scheduler flag setting": GOOD.replace("scheduler: rr,", "scheduler: rr, colour: 1,"),
  "a timeout out of range": `timeoutSeconds: 9999\n${GOOD}`,
};

test("a good file passes both", () => {
  assert.ok(validate(YAML.parse(GOOD)), JSON.stringify(validate.errors));
  assert.doesNotThrow(() => parseScenario(GOOD, "/x/good.yaml"));
});

for (const [what, text] of Object.entries(WRONG)) {
  test(`${what}: refused by the schema and by parseScenario`, () => {
    assert.equal(validate(YAML.parse(text)), false, "the JSON Schema accepted it");
    assert.throws(() => parseScenario(text, "/x/wrong.yaml"));
  });
}
