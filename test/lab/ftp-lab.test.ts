// FTP through the director on real kernel traffic: vsftpd on rs2 (172.16.0.3:21) behind
// VIP 203.0.113.5:21, curl on the client in passive (PASV/227 and EPSV/229) and active
// (PORT and EPRT, `-P -`) mode. Downloads and uploads of 1 KB and 20 MB files must arrive
// with the same sha256; one control connection carries 25 transfers, so the sequence
// corrections of 25 rewritten 227 replies accumulate; captures on both sides show the
// reply as the server sent it (172,16,0,3) and as the client got it (203,0,113,5).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execIn, labDown, labUp } from "../../lab/netns/lab.ts";
import { labTestBlocker, requireRoot } from "../../lab/testing/require-root.ts";
import { startInNamespace } from "../../lab/netns/processes.ts";
import { isAlive } from "../../lab/netns/namespaces.ts";
import { namespaceName } from "../../lab/topology.ts";
import { stateDir } from "../../lab/state.ts";
import { findVsftpd } from "../../realservers/vsftpd.ts";

const LAB = "lvsftp";
const VIP = "203.0.113.5";
const KB = 1024;
const MB20 = 20 * 1024 * 1024;
/** Transfers on the one control connection of the reuse test. */
const REUSED_TRANSFERS = 25;

const blocker = labTestBlocker() ??
  (findVsftpd() === null ? "the FTP lab test needs vsftpd (apt-get install vsftpd)" : null);
const canRun = blocker === null;
let workDir = "";
let pub = "";
const captures: { pid: number; file: string }[] = [];

function sha256(file: string): string {
  return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

function randomFile(file: string, size: number): void {
  const fd = fs.openSync(file, "w");
  for (let left = size; left > 0; left -= 1 << 20) {
    fs.writeSync(fd, crypto.randomBytes(Math.min(left, 1 << 20)));
  }
  fs.closeSync(fd);
}

/** curl in the client host; returns its verbose output (stderr). */
async function curl(args: string[], timeoutMs = 90_000): Promise<string> {
  const r = await execIn("client", ["curl", "-sS", "-v", "--max-time", "80", ...args], {
    name: LAB,
    timeoutMs,
  });
  assert.equal(r.code, 0, `curl ${args.join(" ")} failed:\n${r.stderr.slice(-2000)}`);
  return r.stderr;
}

async function startCapture(host: string, file: string): Promise<void> {
  const pid = await startInNamespace({
    namespace: namespaceName(LAB, host),
    // Control connection only (the data would make the file large); -U writes each packet,
    // --immediate-mode hands each over at once (else the last block is lost at stop).
    argv: [
      "tcpdump",
      "-i",
      "eth0",
      "-n",
      "--immediate-mode",
      "-U",
      "-s",
      "0",
      "-w",
      file,
      "tcp port 21",
    ],
    cwd: workDir,
    logFile: `${file}.log`,
    readyText: "listening on",
    readyTimeoutMs: 10_000,
    what: `tcpdump in ${host}`,
  });
  captures.push({ pid, file });
}

async function stopCaptures(): Promise<void> {
  for (const { pid } of captures) {
    try {
      process.kill(pid, "SIGINT");
    } catch {
      // Already gone.
    }
  }
  const deadline = Date.now() + 5_000;
  while (captures.some((c) => isAlive(c.pid)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Occurrences of `text` in a file's raw bytes. */
function countIn(file: string, text: string): number {
  const data = fs.readFileSync(file);
  const needle = Buffer.from(text, "latin1");
  let n = 0;
  for (let i = data.indexOf(needle); i >= 0; i = data.indexOf(needle, i + 1)) n++;
  return n;
}

before(async () => {
  if (!canRun) return;
  await labDown(LAB);
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-ftp-"));
  fs.chmodSync(workDir, 0o755);
  await labUp({ name: LAB }); // the default table has VIP:21 → 172.16.0.3:21
  pub = path.join(stateDir(LAB), "rs2-ftp", "pub");
  assert.ok(fs.existsSync(pub), `the FTP server's pub directory ${pub} exists`);
  randomFile(path.join(pub, "down-1k.bin"), KB);
  randomFile(path.join(pub, "down-20m.bin"), MB20);
  randomFile(path.join(workDir, "up-1k.bin"), KB);
  randomFile(path.join(workDir, "up-20m.bin"), MB20);
  await startCapture("client", path.join(workDir, "client.pcap"));
  await startCapture("rs2", path.join(workDir, "rs2.pcap"));
});

after(async () => {
  if (!canRun) return;
  await stopCaptures();
  await labDown(LAB);
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

const MODES: { name: string; args: string[]; expect: RegExp }[] = [
  {
    name: "passive (PASV, 227)",
    args: ["--disable-epsv"],
    expect: /< 227 Entering Passive Mode \(203,0,113,5,/,
  },
  { name: "passive (EPSV, 229)", args: [], expect: /< 229 Entering Extended Passive Mode/ },
  { name: "active (PORT)", args: ["-P", "-", "--disable-eprt"], expect: /> PORT 198,51,100,2,/ },
  { name: "active (EPRT)", args: ["-P", "-"], expect: /> EPRT \|1\|198\.51\.100\.2\|/ },
];

for (const mode of MODES) {
  test(`${mode.name}: 1 KB and 20 MB downloads and uploads arrive intact through VIP:21`, async (t) => {
    if (!requireRoot(t, blocker)) return;
    const tag = mode.name.replace(/[^a-z]+/gi, "-").toLowerCase();
    for (const size of ["1k", "20m"]) {
      const out = path.join(workDir, `got-${tag}-${size}.bin`);
      const log = await curl([...mode.args, "-o", out, `ftp://${VIP}/pub/down-${size}.bin`]);
      assert.match(log, mode.expect);
      assert.equal(sha256(out), sha256(path.join(pub, `down-${size}.bin`)), `download ${size}`);
      fs.rmSync(out);
      const name = `up-${tag}-${size}.bin`;
      const up = await curl([
        ...mode.args,
        "-T",
        path.join(workDir, `up-${size}.bin`),
        `ftp://${VIP}/pub/${name}`,
      ]);
      assert.match(up, mode.expect);
      assert.equal(
        sha256(path.join(pub, name)),
        sha256(path.join(workDir, `up-${size}.bin`)),
        `upload ${size}`,
      );
    }
  });
}

test(`one control connection carries ${REUSED_TRANSFERS} passive transfers (227 rewritten each time)`, async (t) => {
  if (!requireRoot(t, blocker)) return;
  const args = ["--disable-epsv"];
  const outs: string[] = [];
  for (let i = 0; i < REUSED_TRANSFERS; i++) {
    // The 20 MB file in the middle and at the end: the control connection idles meanwhile.
    const file = i === 12 || i === REUSED_TRANSFERS - 1 ? "down-20m.bin" : "down-1k.bin";
    const out = path.join(workDir, `reuse-${i}.bin`);
    outs.push(out);
    args.push("-o", out, `ftp://${VIP}/pub/${file}`);
  }
  const log = await curl(args, 120_000);
  const reused = log.match(/Re-using existing connection/g)?.length ?? 0;
  assert.equal(reused, REUSED_TRANSFERS - 1, "curl kept one control connection");
  const replies = log.match(/< 227 Entering Passive Mode \(203,0,113,5,/g)?.length ?? 0;
  assert.equal(replies, REUSED_TRANSFERS);
  const want1k = sha256(path.join(pub, "down-1k.bin"));
  const want20m = sha256(path.join(pub, "down-20m.bin"));
  outs.forEach((out, i) => {
    const want = i === 12 || i === REUSED_TRANSFERS - 1 ? want20m : want1k;
    assert.equal(sha256(out), want, `transfer ${i}`);
  });
  // And the same connection in active mode after passive ones: PORT, then data from :20.
  const active = ["-P", "-", "--disable-eprt"];
  for (let i = 0; i < 5; i++) {
    active.push("-o", path.join(workDir, `reuse-active-${i}.bin`), `ftp://${VIP}/pub/down-1k.bin`);
  }
  const activeLog = await curl(active);
  assert.equal(activeLog.match(/Re-using existing connection/g)?.length ?? 0, 4);
  for (let i = 0; i < 5; i++) {
    assert.equal(sha256(path.join(workDir, `reuse-active-${i}.bin`)), want1k);
  }
});

test("the captures show the 227 reply as the server sent it and as the client got it", async (t) => {
  if (!requireRoot(t, blocker)) return;
  await stopCaptures();
  const client = path.join(workDir, "client.pcap");
  const rs2 = path.join(workDir, "rs2.pcap");
  // Passive-mode test (2 transfers x 2 files) + the reuse test's transfers, at least.
  const atLeast = REUSED_TRANSFERS + 4;
  const rewritten = countIn(client, "227 Entering Passive Mode (203,0,113,5,");
  assert.ok(rewritten >= atLeast, `client side: ${rewritten} rewritten 227 replies`);
  assert.equal(countIn(client, "172,16,0,3"), 0, "no real-server address reaches the client");
  const original = countIn(rs2, "227 Entering Passive Mode (172,16,0,3,");
  assert.ok(original >= atLeast, `server side: ${original} original 227 replies`);
  assert.equal(countIn(rs2, "(203,0,113,5,"), 0, "the server never sent the VIP");
});
