import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type LabState, readState, removeStateDir, stateFile, writeState } from "./state.ts";

function sample(name: string): LabState {
  return {
    version: 1,
    name,
    createdAt: new Date(0).toISOString(),
    repoRoot: "/repo",
    configPath: "/repo/lab/default-services.yaml",
    namespaces: [`${name}-net`, `${name}-client`],
    bridges: [{ namespace: `${name}-net`, name: "br-public" }],
    veths: [{
      namespace: `${name}-net`,
      name: "client-eth0",
      peerNamespace: `${name}-client`,
      peerName: "eth0",
    }],
    processes: [{
      name: "rs1-http",
      host: "rs1",
      namespace: `${name}-rs1`,
      pid: 1234,
      argv: ["node", "x.ts"],
      log: "/tmp/x.log",
    }],
  };
}

function tempRunDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-state-"));
}

test("state round-trips through the file", () => {
  const runDir = tempRunDir();
  try {
    assert.equal(readState("lvst", runDir), null);
    const file = writeState(sample("lvst"), runDir);
    assert.equal(file, path.join(runDir, "lvst", "state.json"));
    assert.deepEqual(readState("lvst", runDir), sample("lvst"));
    // No temp file is left behind by the atomic write.
    assert.deepEqual(fs.readdirSync(path.join(runDir, "lvst")), ["state.json"]);
    assert.equal(removeStateDir("lvst", runDir), true);
    assert.equal(removeStateDir("lvst", runDir), false);
    assert.equal(readState("lvst", runDir), null);
  } finally {
    fs.rmSync(runDir, { recursive: true, force: true });
  }
});

test("a damaged state file gives a sentence pointing at down", () => {
  const runDir = tempRunDir();
  try {
    fs.mkdirSync(path.join(runDir, "lvst"));
    fs.writeFileSync(stateFile("lvst", runDir), "{ nope");
    assert.throws(() => readState("lvst", runDir), /not valid JSON; 'lvslab down' cleans up/);
    fs.writeFileSync(stateFile("lvst", runDir), JSON.stringify({ version: 2 }));
    assert.throws(() => readState("lvst", runDir), /is not a lab state/);
  } finally {
    fs.rmSync(runDir, { recursive: true, force: true });
  }
});

test("writeState refuses a malformed state", () => {
  const runDir = tempRunDir();
  try {
    const bad = { ...sample("lvst"), processes: [{ ...sample("lvst").processes[0], pid: -1 }] };
    assert.throws(() => writeState(bad, runDir));
    assert.equal(fs.existsSync(stateFile("lvst", runDir)), false);
  } finally {
    fs.rmSync(runDir, { recursive: true, force: true });
  }
});
