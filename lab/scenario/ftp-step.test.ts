import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { BackgroundProcess, LabBackend } from "../backend.ts";
import type { CommandResult } from "../netns/command.ts";
import {
  curlArgv,
  describeFtp,
  ftpRoot,
  modeArgs,
  parseSha256sum,
  planTransfers,
  readCurlLog,
  runFtpStep,
  sizeText,
} from "./ftp-step.ts";
import type { FtpStep } from "./steps/ftp.ts";
import { UNUSED_BACKEND_PARTS } from "../testing/fake-backend.ts";

function step(over: Partial<FtpStep> = {}): FtpStep {
  return {
    kind: "ftp",
    id: "f",
    vport: 21,
    mode: "passive",
    extended: false,
    download: [1024],
    upload: [2048],
    repeat: 2,
    timeoutMs: 5000,
    ...over,
  };
}

test("the plan runs downloads then uploads per round, each upload to a name of its own", () => {
  const plan = planTransfers(step(), "t1", "/tmp/c");
  assert.deepEqual(plan.map((t) => `${t.direction} ${t.size} ${t.remote} ${t.local}`), [
    "download 1024 lvslab-t1-down-1024.bin /tmp/c/down-1.bin",
    "upload 2048 lvslab-t1-up-2.bin /tmp/c/up-2048.bin",
    "download 1024 lvslab-t1-down-1024.bin /tmp/c/down-3.bin",
    "upload 2048 lvslab-t1-up-4.bin /tmp/c/up-2048.bin",
  ]);
});

test("one curl run: operations joined by --next, each with the mode's options", () => {
  const s = step({ mode: "active", rate: 1 << 20 });
  const argv = curlArgv(s, "203.0.113.5", planTransfers(s, "t", "/c"), 7);
  assert.equal(argv[0], "curl");
  assert.equal(argv.filter((a) => a === "--next").length, 3);
  assert.equal(argv.filter((a) => a === "-P").length, 4);
  assert.equal(argv.filter((a) => a === "--disable-eprt").length, 4);
  assert.equal(argv.filter((a) => a === "--limit-rate").length, 4);
  const ops = argv.join(" ").split(" --next ");
  assert.match(
    ops[0],
    /-o \/c\/down-1\.bin ftp:\/\/203\.0\.113\.5:21\/pub\/lvslab-t-down-1024\.bin$/,
  );
  assert.match(ops[1], /-T \/c\/up-2048\.bin ftp:\/\/203\.0\.113\.5:21\/pub\/lvslab-t-up-2\.bin$/);
  assert.match(ops[1], /--max-time 7 /);
  assert.deepEqual(modeArgs({ mode: "passive", extended: false }), [
    "--disable-epsv",
    "--no-ftp-skip-pasv-ip",
  ]);
  assert.deepEqual(modeArgs({ mode: "passive", extended: true }), ["--no-ftp-skip-pasv-ip"]);
  assert.deepEqual(modeArgs({ mode: "active", extended: true }), ["-P", "-"]);
});

const CURL_LOG = `*   Trying 203.0.113.5:21...
* Connected to 203.0.113.5 (203.0.113.5) port 21 (#0)
< 220 (vsFTPd 3.0.3)
> PASV
< 227 Entering Passive Mode (203,0,113,5,117,100).
*   Trying 203.0.113.5:30052...
* Connection #0 to host 203.0.113.5 left intact
* Re-using existing connection #0 with host 203.0.113.5
> PASV
< 227 Entering Passive Mode (172,16,0,3,117,55).
> PORT 198,51,100,2,182,133
`;

test("curl's verbose output gives control connections, reuse and the replies", () => {
  assert.deepEqual(readCurlLog(CURL_LOG, "203.0.113.5", 21), {
    controlConnections: 1,
    reused: 1,
    replies: { pasv: 2, pasvToVip: 1, epsv: 0, port: 1, eprt: 0 },
  });
});

test("sha256sum lines, sizes in words, and where the FTP root is per backend", () => {
  const h = "a".repeat(64);
  assert.deepEqual(
    [...parseSha256sum(`${h}  x.bin\n${h} *y z.bin\nsha256sum: q: No such file\n`)],
    [["x.bin", h], ["y z.bin", h]],
  );
  assert.equal(sizeText(20 * 1024 * 1024), "20 MiB");
  assert.equal(sizeText(1024), "1 KiB");
  assert.equal(sizeText(1536), "1.5 KiB");
  assert.equal(sizeText(512), "512 bytes");
  const fake = (kind: "netns" | "compose") => ({ kind, name: "lvsscn" }) as LabBackend;
  assert.equal(ftpRoot(fake("netns"), "rs2"), "/run/lvslab/lvsscn/rs2-ftp");
  assert.equal(ftpRoot(fake("compose"), "rs2"), "/srv/lvslab/rs2-ftp");
});

/**
 * A backend whose hosts are this machine: sh, mkdir, rm, test run for real; curl is played
 * by copying files between the client folder and the server's pub/ (the `damage`-th transfer
 * gets one byte changed, the `lose`-th never arrives).
 */
function localBackend(pub: string, opts: { damage?: number; lose?: number }): LabBackend {
  let transfer = 0;
  const curl = (argv: string[]): CommandResult => {
    const log: string[] = ["*   Trying 203.0.113.5:21..."];
    const ops = argv.slice(1).join("\u0000").split("\u0000--next\u0000").map((o) =>
      o.split("\u0000")
    );
    for (const op of ops) {
      transfer++;
      if (transfer > 1) log.push("* Re-using existing connection #0 with host 203.0.113.5");
      log.push("< 227 Entering Passive Mode (203,0,113,5,117,100).");
      const url = op[op.length - 1];
      const remote = path.join(pub, url.split("/pub/")[1]);
      const [from, to] = op.includes("-o")
        ? [remote, op[op.indexOf("-o") + 1]]
        : [op[op.indexOf("-T") + 1], remote];
      if (transfer === opts.lose) continue;
      const data = fs.readFileSync(from);
      if (transfer === opts.damage) data[0] ^= 1;
      fs.writeFileSync(to, data);
    }
    return { code: 0, stdout: "", stderr: log.join("\n") + "\n" };
  };
  return {
    ...UNUSED_BACKEND_PARTS,
    kind: "netns",
    name: "test",
    up: () => Promise.resolve(),
    down: () => Promise.resolve(),
    isUp: () => Promise.resolve(true),
    exec(_host: string, argv: string[]): Promise<CommandResult> {
      if (argv[0] === "curl") return Promise.resolve(curl(argv));
      const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8" });
      return Promise.resolve({ code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr });
    },
    spawn: () => Promise.reject(new Error("not here")) as Promise<BackgroundProcess>,
    copyOut: () => Promise.resolve(),
    program: (script, args) => [script, ...args],
  };
}

test("files are made at both ends, compared by sha256, and removed afterwards", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-ftp-test-"));
  fs.mkdirSync(path.join(root, "pub"));
  const tag = crypto.randomBytes(4).toString("hex");
  try {
    const run = (opts: { damage?: number; lose?: number }) =>
      runFtpStep(localBackend(path.join(root, "pub"), opts), step(), "203.0.113.5", {
        budget: (ms) => ms,
        logFile: path.join(root, "logs", "ftp.log"),
        tag,
        root,
      });
    const good = await run({});
    assert.deepEqual(good.outcomes, { intact: 4, corrupted: 0, failed: 0 });
    assert.equal(good.controlConnections, 1);
    assert.equal(good.reused, 3);
    assert.equal(good.bytes, 2 * 1024 + 2 * 2048);
    assert.ok(good.transfers.every((t) => t.sent !== null && t.sent === t.received));
    assert.match(describeFtp(good), /^4 transfers to 203\.0\.113\.5:21 \(2 down, 2 up, passive/);
    assert.match(fs.readFileSync(path.join(root, "logs", "ftp.log"), "utf8"), /Trying/);
    // Nothing left behind on either side.
    assert.deepEqual(fs.readdirSync(path.join(root, "pub")), []);
    assert.equal(fs.existsSync(`/tmp/lvslab-ftp-${tag}`), false);

    const bad = await run({ damage: 2, lose: 3 });
    assert.deepEqual(bad.outcomes, { intact: 2, corrupted: 1, failed: 1 });
    assert.equal(bad.transfers[1].outcome, "corrupted");
    assert.equal(bad.transfers[1].direction, "upload");
    assert.notEqual(bad.transfers[1].received, bad.transfers[1].sent);
    assert.equal(bad.transfers[2].outcome, "failed");
    assert.equal(bad.transfers[2].received, null);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("a server without its pub/ directory is a sentence, not a crash", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-ftp-test-"));
  try {
    await assert.rejects(
      runFtpStep(localBackend(path.join(root, "pub"), {}), step(), "203.0.113.5", {
        budget: (ms) => ms,
        logFile: path.join(root, "ftp.log"),
        root,
      }),
      /the FTP server's directory .*\/pub is missing in host rs2/,
    );
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
