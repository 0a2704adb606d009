// `lvslab run` refuses what cannot run with exit code 2 and a sentence, before any lab.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { allScenarioFiles, loadAll, resolveScenario, runVerb } from "./run.ts";

async function capture(fn: () => Promise<number>): Promise<{ code: number; err: string }> {
  const original = console.error;
  let err = "";
  console.error = (...args: unknown[]) => (err += args.join(" ") + "\n");
  try {
    return { code: await fn(), err };
  } finally {
    console.error = original;
  }
}

test("a bad scenario file: exit 2, nothing run, the sentence names file and step", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-run-"));
  const file = path.join(dir, "bad.yaml");
  fs.writeFileSync(
    file,
    "services:\n  services: []\nsteps:\n  - http: { vport: 80 }\nassertions:\n  - rewrite: {}\n",
  );
  const r = await capture(() => runVerb([file], { backend: "netns" }));
  assert.equal(r.code, 2);
  assert.match(r.err, /nothing was run; fix these scenario files first/);
  assert.match(r.err, /bad\.yaml: steps\[0\] \(http\): there is no tcp service 203\.0\.113\.5:80/);
});

test("an unknown scenario name: exit 2 listing the scenarios there are", async () => {
  const r = await capture(() => runVerb(["no-such-scenario"], { backend: "netns" }));
  assert.equal(r.code, 2);
  assert.match(r.err, /no scenario file 'no-such-scenario'; give a path or one of: .*article/);
});

test("no scenario at all, or both files and --all: exit 2", async () => {
  assert.equal((await capture(() => runVerb([], { backend: "netns" }))).code, 2);
  const both = await capture(() => runVerb(["article"], { backend: "netns", all: true }));
  assert.equal(both.code, 2);
  assert.match(both.err, /not both/);
});

test("a backend this build does not have: exit 2 with the kinds it has", async () => {
  const r = await capture(() => runVerb(["article"], { backend: "kvm" }));
  assert.equal(r.code, 2);
  assert.match(r.err, /backend 'kvm' is unknown; use one of netns, compose/);
});

test("--name must be a lab name: exit 2 with the rule", async () => {
  const r = await capture(() => runVerb(["article"], { backend: "netns", name: "Bad-Name" }));
  assert.equal(r.code, 2);
  assert.match(r.err, /lab name 'Bad-Name' is not valid/);
});

test("names resolve to scenarios/, and every file there is valid", () => {
  assert.equal(path.basename(resolveScenario("article")), "article.yaml");
  const files = allScenarioFiles();
  assert.ok(files.length >= 9, files.join(", "));
  const scenarios = loadAll(files);
  assert.deepEqual(scenarios.map((s) => s.name), files.map((f) => path.basename(f, ".yaml")));
});
