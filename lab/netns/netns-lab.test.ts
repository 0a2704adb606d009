// Lab test of the netns backend (needs root): builds the default lab under a test-only name,
// checks reachability and the real servers, then checks `down` leaves nothing behind and the
// root namespace untouched.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { requireRoot } from "../testing/require-root.ts";
import { rootNamespaceSnapshot } from "../testing/root-snapshot.ts";
import { execIn, labDown, labStatus, labUp, repoProgram } from "./lab.ts";
import { defaultTopology, labNamespaces } from "../topology.ts";
import { readState, stateDir, stateFile } from "../state.ts";
import { isAlive, labNamespacesPresent, namespaceOfPid } from "./namespaces.ts";
import { startInNamespace } from "./processes.ts";
import type { LoadSummary } from "../../clients/http-load.ts";

const NAME = "lvst";

/** The root namespace's addresses, routes, rules and links (address lifetimes left out). */
async function fetchFrom(host: string, url: string, count: number): Promise<LoadSummary> {
  const r = await execIn(
    host,
    repoProgram("clients/http-client.ts", ["--url", url, "--count", String(count), "--json"]),
    { name: NAME, timeoutMs: 30_000 },
  );
  assert.ok(r.stdout.trim(), `the client printed no summary; stderr: ${r.stderr}`);
  return JSON.parse(r.stdout) as LoadSummary;
}

test("netns lab: up, reachability, real servers, down", { timeout: 180_000 }, async (t) => {
  if (!requireRoot(t)) return;
  await labDown(NAME); // leftovers of an interrupted earlier run
  const before = rootNamespaceSnapshot();
  const expectedNamespaces = labNamespaces(NAME, defaultTopology());

  try {
    const state = await labUp({ name: NAME, director: false });

    await t.test("up creates the namespaces, state file and real servers", () => {
      assert.deepEqual(labNamespacesPresent(NAME).sort(), [...expectedNamespaces].sort());
      assert.deepEqual(readState(NAME), state);
      assert.deepEqual(state.namespaces, expectedNamespaces);
      assert.equal(state.configPath, null);
      assert.deepEqual(state.processes.map((p) => p.name).sort(), [
        "rs1-http",
        "rs2-ftp",
        "rs2-http",
      ]);
      for (const p of state.processes) {
        assert.equal(namespaceOfPid(p.pid), p.namespace, `${p.name} runs in ${p.namespace}`);
      }
      const status = labStatus(NAME);
      assert.ok(status.up && status.hosts.every((h) => h.present), JSON.stringify(status.hosts));
      assert.ok(status.processes.every((p) => p.alive));
      const client = status.hosts.find((h) => h.host === "client")!;
      assert.deepEqual(client.addresses, ["eth0 198.51.100.2/24"]);
    });

    await t.test("a second up is refused", async () => {
      await assert.rejects(
        labUp({ name: NAME, director: false }),
        /lab 'lvst' is already up; run 'lvslab down' first/,
      );
    });

    await t.test("the root namespace is untouched while the lab is up", () => {
      assert.equal(rootNamespaceSnapshot(), before);
    });

    await t.test("client reaches the director's public address", async () => {
      const r = await execIn("client", ["ping", "-c", "1", "-W", "2", "198.51.100.254"], {
        name: NAME,
      });
      assert.equal(r.code, 0, r.stdout + r.stderr);
    });

    await t.test("rs1 reaches the director's private address", async () => {
      const r = await execIn("rs1", ["ping", "-c", "1", "-W", "2", "172.16.0.254"], {
        name: NAME,
      });
      assert.equal(r.code, 0, r.stdout + r.stderr);
    });

    await t.test("rs1's HTTP server answers rs2 on 172.16.0.2:80", async () => {
      const summary = await fetchFrom("rs2", "http://172.16.0.2:80/", 3);
      assert.deepEqual(summary.byServer, { rs1: 3 });
      assert.deepEqual(summary.byServerAddress, { "rs1 172.16.0.2:80": 3 });
      assert.equal(summary.failed, 0);
    });

    await t.test("rs2 serves on :8000 only, so a missed port rewrite would show", async () => {
      const ok = await fetchFrom("rs1", "http://172.16.0.3:8000/", 1);
      assert.deepEqual(ok.byServerAddress, { "rs2 172.16.0.3:8000": 1 });
      const refused = await fetchFrom("rs1", "http://172.16.0.3:80/", 1);
      assert.equal(refused.failed, 1);
      assert.match(refused.errors[0], /ECONNREFUSED/);
    });

    await t.test("exec names the hosts when one is missing", async () => {
      await assert.rejects(execIn("rs9", ["true"], { name: NAME }), /has no host 'rs9'.*client/);
    });

    await t.test("a program that dies before ready fails with its log", async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lvst-"));
      try {
        await assert.rejects(
          startInNamespace({
            namespace: `${NAME}-client`,
            argv: ["sh", "-c", "echo boom; exit 3"],
            cwd: dir,
            logFile: path.join(dir, "x.log"),
            readyText: "never printed",
            readyTimeoutMs: 5000,
            what: "the test program",
          }),
          /the test program exited with 3; its log .* ends with:\nboom/,
        );
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    await t.test("down removes namespaces, processes and state", async () => {
      const report = await labDown(NAME);
      assert.deepEqual([...report.namespaces].sort(), [...expectedNamespaces].sort());
      for (const p of state.processes) assert.ok(report.pids.includes(p.pid));
      assert.equal(report.stateDir, stateDir(NAME));
      assert.deepEqual(labNamespacesPresent(NAME), []);
      for (const p of state.processes) assert.equal(isAlive(p.pid), false, `${p.name} stopped`);
      assert.equal(fs.existsSync(stateDir(NAME)), false);
      assert.equal(rootNamespaceSnapshot(), before);
    });

    await t.test("down cleans up a crashed lab without a state file, and is idempotent", async () => {
      const again = await labUp({ name: NAME, director: false });
      fs.rmSync(stateFile(NAME));
      const report = await labDown(NAME);
      assert.deepEqual([...report.namespaces].sort(), [...expectedNamespaces].sort());
      for (const p of again.processes) assert.equal(isAlive(p.pid), false);
      assert.deepEqual(labNamespacesPresent(NAME), []);
      const second = await labDown(NAME);
      assert.deepEqual(second, {
        name: NAME,
        namespaces: [],
        pids: [],
        stateDir: null,
        warnings: [],
      });
      assert.equal(rootNamespaceSnapshot(), before);
    });
  } finally {
    await labDown(NAME);
  }
});
