import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { ComposeBackend, createComposeBackend } from "./compose-backend.ts";
import { REPO_ROOT } from "../paths.ts";

test("program() runs repo TypeScript from the repository's mount in the container", () => {
  const backend = new ComposeBackend("lvscmp");
  assert.deepEqual(backend.program("clients/http-client.ts", ["--url", "http://203.0.113.5/"]), [
    "node",
    "--import",
    "tsx",
    "/lvslab/clients/http-client.ts",
    "--url",
    "http://203.0.113.5/",
  ]);
  // Paths of the repository on this machine are mapped into the mount; others are left alone.
  const argv = backend.program(path.join(REPO_ROOT, "realservers/http-server.ts"), [
    "--config",
    path.join(REPO_ROOT, "lab/default-services.yaml"),
    `${REPO_ROOT}-other/file`,
    "/tmp/x",
  ]);
  assert.deepEqual(argv.slice(3), [
    "/lvslab/realservers/http-server.ts",
    "--config",
    "/lvslab/lab/default-services.yaml",
    `${REPO_ROOT}-other/file`,
    "/tmp/x",
  ]);
});

test("the factory makes a compose backend named after the project", () => {
  const backend = createComposeBackend("lvscmp2");
  assert.equal(backend.kind, "compose");
  assert.equal(backend.name, "lvscmp2");
  // Compose project names become container, network and volume prefixes: same rule as netns.
  assert.throws(() => createComposeBackend("Bad-Name"), /lab name 'Bad-Name' is not valid/);
});
