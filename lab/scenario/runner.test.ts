// The runner on a fake backend (no root needed): steps reach the right hosts, the lab is
// always taken down, report.json and junit.xml are written, statuses and exit codes follow.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { BackgroundProcess, LabBackend } from "../backend.ts";
import type { CommandResult } from "../netns/command.ts";
import { parseScenario } from "./schema.ts";
import { runScenarios } from "./runner.ts";
import { exitCode } from "./result.ts";
import { UNUSED_BACKEND_PARTS } from "../testing/fake-backend.ts";

const SCENARIO = `
capture: false
services:
  services:
    - protocol: tcp
      address: 203.0.113.5
      port: 80
      scheduler: wrr
      servers:
        - { address: 172.16.0.2, port: 80, weight: 1 }
        - { address: 172.16.0.3, port: 8000, weight: 2 }
steps:
  - http: { id: load, connections: 30 }
  - ipvsadm: -e -t 203.0.113.5:80 -r 172.16.0.2:80 -m -w 0
  - table: t
assertions:
  - servers: { step: load, exactly: { 172.16.0.2:80: 10, 172.16.0.3:8000: 20 } }
  - distribution: { step: load, weights: { 172.16.0.2:80: 1, 172.16.0.3:8000: 2 }, from: [client] }
  - table: { step: t, present: [{ protocol: tcp, state: TIME_WAIT, min: 2 }] }
`;

const TABLE = `IPVS connection entries
pro expire state       source             virtual            destination
TCP 01:58  TIME_WAIT   198.51.100.2:40001 203.0.113.5:80     172.16.0.2:80
TCP 01:59  TIME_WAIT   198.51.100.2:40002 203.0.113.5:80     172.16.0.3:8000
`;

class FakeBackend implements LabBackend {
  readonly kind = "netns" as const;
  readonly label = UNUSED_BACKEND_PARTS.label;
  readonly teardown = UNUSED_BACKEND_PARTS.teardown;
  readonly status = UNUSED_BACKEND_PARTS.status;
  readonly execInteractive = UNUSED_BACKEND_PARTS.execInteractive;
  calls: string[] = [];
  constructor(
    readonly name: string,
    private readonly split: [number, number],
    private readonly upFails = false,
  ) {}
  up(): Promise<void> {
    this.calls.push("up");
    return this.upFails ? Promise.reject(new Error("no namespaces here")) : Promise.resolve();
  }
  down(): Promise<void> {
    this.calls.push("down");
    return Promise.resolve();
  }
  isUp(): Promise<boolean> {
    return Promise.resolve(false);
  }
  exec(host: string, argv: string[]): Promise<CommandResult> {
    this.calls.push(`${host}: ${argv.slice(-2).join(" ")}`);
    if (host === "client") {
      const [a, b] = this.split;
      const summary = {
        connections: a + b,
        requests: a + b,
        answered: a + b,
        ok: a + b,
        failed: 0,
        outcomes: { ok: a + b, refused: 0, reset: 0, timeout: 0, error: 0 },
        byServer: { rs1: a, rs2: b },
        byServerAddress: { "rs1 172.16.0.2:80": a, "rs2 172.16.0.3:8000": b },
        records: [],
      };
      return Promise.resolve({ code: 0, stdout: JSON.stringify(summary) + "\n", stderr: "" });
    }
    const listing = argv.includes("-c");
    return Promise.resolve({ code: 0, stdout: listing ? TABLE : "", stderr: "" });
  }
  spawn(): Promise<BackgroundProcess> {
    return Promise.reject(new Error("not used"));
  }
  copyOut(): Promise<void> {
    return Promise.resolve();
  }
  program(script: string, args: string[]): string[] {
    return ["node", script, ...args];
  }
}

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-runner-"));
}

test("a passing run writes report.json and junit.xml and takes the lab down", async () => {
  const scenario = parseScenario(SCENARIO, "/x/fake.yaml");
  const fake = new FakeBackend("lvsscn", [10, 20]);
  const dir = tmp();
  const report = await runScenarios([scenario], { artifacts: dir, makeBackend: () => fake });
  const r = report.scenarios[0];
  assert.equal(r.status, "passed", JSON.stringify(r.assertions, null, 2));
  assert.equal(exitCode(report.scenarios), 0);
  assert.deepEqual(fake.calls[0], "up");
  assert.equal(fake.calls.at(-1), "down");
  assert.ok(fake.calls.some((c) => c.startsWith("director: -w 0")), fake.calls.join("; "));
  assert.equal(r.assertions.length, 3);
  assert.ok(r.assertions.every((a) => a.line.startsWith("PASS")));
  const saved = JSON.parse(fs.readFileSync(path.join(dir, "report.json"), "utf8"));
  assert.equal(saved.scenarios[0].name, "fake");
  assert.ok(fs.existsSync(path.join(dir, "fake", "report.json")));
  assert.ok(fs.existsSync(path.join(dir, "fake", "services.yaml")));
  const xml = fs.readFileSync(path.join(dir, "junit.xml"), "utf8");
  assert.match(xml, /<testsuite name="fake" tests="3" failures="0" errors="0"/);
});

test("a wrong split fails the assertions, exit code 1, failure elements carry the sentence", async () => {
  const scenario = parseScenario(SCENARIO, "/x/fake.yaml");
  const fake = new FakeBackend("lvsscn", [20, 10]);
  const dir = tmp();
  const report = await runScenarios([scenario], { artifacts: dir, makeBackend: () => fake });
  const r = report.scenarios[0];
  assert.equal(r.status, "failed");
  assert.equal(exitCode(report.scenarios), 1);
  assert.equal(fake.calls.at(-1), "down");
  const failing = r.assertions.filter((a) => !a.passed).map((a) => a.line);
  assert.equal(failing.length, 2, failing.join("\n"));
  assert.match(
    failing[0],
    /^FAIL: answers of 'load' per real server: 172\.16\.0\.2:80 20 \(expected exactly 10\)/,
  );
  const xml = fs.readFileSync(path.join(dir, "junit.xml"), "utf8");
  assert.match(xml, /failures="2"/);
  assert.match(xml, /<failure message="FAIL: answers of &apos;load&apos; per real server/);
});

test("a lab that does not come up is an error: nothing ran, exit code 2, down still called", async () => {
  const scenario = parseScenario(SCENARIO, "/x/fake.yaml");
  const fake = new FakeBackend("lvsscn", [10, 20], true);
  const report = await runScenarios([scenario], { artifacts: tmp(), makeBackend: () => fake });
  const r = report.scenarios[0];
  assert.equal(r.status, "error");
  assert.match(r.error ?? "", /the lab did not come up: no namespaces here/);
  assert.deepEqual(r.steps, []);
  assert.equal(fake.calls.at(-1), "down");
  assert.equal(exitCode(report.scenarios), 2);
});

test("an unknown backend kind is an error sentence, not a crash", async () => {
  const scenario = parseScenario(SCENARIO, "/x/fake.yaml");
  const report = await runScenarios([scenario], { artifacts: tmp(), backend: "vmware" });
  assert.equal(report.scenarios[0].status, "error");
  assert.match(
    report.scenarios[0].error ?? "",
    /backend 'vmware' is unknown; use one of netns, compose/,
  );
});
