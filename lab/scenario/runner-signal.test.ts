// A run interrupted by SIGTERM or SIGINT takes its lab down before the process ends (a
// Compose lab would otherwise keep its containers): a child process runs a scenario on a
// fake backend whose traffic never ends, the test signals it and reads what the backend saw.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));

const CHILD = `
import fs from "node:fs";
import { runScenario } from ${JSON.stringify(path.join(HERE, "runner.ts"))};
import { parseScenario } from ${JSON.stringify(path.join(HERE, "schema.ts"))};
const [dir] = process.argv.slice(2);
setInterval(() => {}, 1000); // keeps the process alive while the step "runs"
const note = (line) => fs.appendFileSync(dir + "/calls.txt", line + "\\n");
const backend = {
  kind: "compose", name: "lvssig",
  up: async () => note("up"),
  down: async () => note("down"),
  isUp: async () => false,
  exec: (host) => {
    note("exec " + host);
    if (host === "client") console.log("traffic started");
    return new Promise(() => {}); // never ends: the signal must end the run
  },
  spawn: async () => { throw new Error("no"); },
  copyOut: async () => {},
  program: (s, a) => [s, ...a],
};
const scenario = parseScenario(\`
capture: false
services:
  services:
    - { protocol: tcp, address: 203.0.113.5, port: 80, scheduler: rr, servers: [{ address: 172.16.0.2, port: 80, weight: 1 }] }
steps:
  - http: { id: a, connections: 1 }
assertions:
  - results: { step: a, atLeast: { ok: 1 } }
\`, dir + "/s.yaml");
await runScenario(scenario, dir + "/run", { makeBackend: () => backend, log: note });
note("finished without a signal");
`;

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  test(`${signal} during a step takes the lab down, then exits with 128 + the signal`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-signal-"));
    try {
      const script = path.join(dir, "child.mts");
      fs.writeFileSync(script, CHILD);
      const child = spawn(process.execPath, ["--import", "tsx", script, dir], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      const code = await new Promise<number | null>((resolve, reject) => {
        const timer = setTimeout(() => {
          child.kill("SIGKILL");
          reject(new Error("the child did not end within 20 s"));
        }, 20_000);
        child.stdout.on("data", (d: Buffer) => {
          if (d.toString().includes("traffic started")) child.kill(signal);
        });
        child.on("exit", (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      assert.equal(code, signal === "SIGINT" ? 130 : 143);
      const calls = fs.readFileSync(path.join(dir, "calls.txt"), "utf8").split("\n");
      assert.ok(calls.includes("up"));
      assert.ok(calls.includes("exec client"));
      assert.ok(calls.some((l) => l.startsWith(`${signal}: taking the lab down`)), calls.join("|"));
      assert.equal(calls.filter((l) => l === "down").length, 1, calls.join("|"));
      assert.ok(!calls.includes("finished without a signal"));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
