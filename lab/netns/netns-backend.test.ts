// The netns LabBackend on a real lab: up, exec in a host, a background program stopped by
// its handle, copyOut, down. Needs root (skips without, fails under CI=true).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { NetnsBackend } from "./netns-backend.ts";
import { labTestBlocker, requireRoot } from "../testing/require-root.ts";
import { labNamespacesPresent } from "./namespaces.ts";
import { createBackend } from "../backends.ts";

const LAB = "lvstbk";
const canRun = labTestBlocker() === null;

after(async () => {
  if (canRun) await new NetnsBackend(LAB).down();
});

test("createBackend builds the netns backend and refuses unknown kinds", () => {
  assert.ok(createBackend("netns", LAB) instanceof NetnsBackend);
  assert.throws(() => createBackend("qemu", LAB), /backend 'qemu' is unknown/);
  assert.throws(() => new NetnsBackend("Bad-Name"), /lab name 'Bad-Name' is not valid/);
});

test("up, exec, spawn/stop, copyOut and down on network namespaces", async (t) => {
  if (!requireRoot(t)) return;
  const b = new NetnsBackend(LAB);
  await b.down();
  assert.equal(await b.isUp(), false);
  await b.up();
  assert.equal(await b.isUp(), true);

  const r = await b.exec("client", ["ip", "-4", "-o", "addr", "show", "dev", "eth0"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /198\.51\.100\.2\/24/);
  // ipvsadm (the lab's host tool) is on the director's PATH.
  const l = await b.exec("director", ["ipvsadm", "-L", "-n"]);
  assert.equal(l.code, 0, l.stderr);
  assert.match(l.stdout, /TCP {2}203\.0\.113\.5:80 wrr/);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-backend-"));
  const log = path.join(dir, "sleep.log");
  const p = await b.spawn("rs1", ["sh", "-c", "ip -4 -o addr show dev eth0; exec sleep 60"], log);
  await new Promise((res) => setTimeout(res, 300));
  const started = Date.now();
  await p.stop();
  assert.ok(Date.now() - started < 3000, "SIGTERM should end sleep at once");
  assert.equal(await p.exited, 143);
  assert.match(fs.readFileSync(log, "utf8"), /172\.16\.0\.2\/24/);
  const short = await b.spawn("client", ["true"], path.join(dir, "true.log"));
  assert.equal(await short.exited, 0);
  await short.stop(); // stopping an ended program is harmless

  await b.copyOut("rs1", log, path.join(dir, "copy", "sleep.log"));
  assert.equal(
    fs.readFileSync(path.join(dir, "copy", "sleep.log"), "utf8"),
    fs.readFileSync(log, "utf8"),
  );
  assert.deepEqual(b.program("clients/tcp-probe.ts", ["--count", "1"]).slice(-3), [
    path.resolve("clients/tcp-probe.ts"),
    "--count",
    "1",
  ]);

  await b.down();
  assert.equal(await b.isUp(), false);
  assert.deepEqual(labNamespacesPresent(LAB), []);
});
