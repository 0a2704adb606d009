// startCaptures against a fake backend whose "tcpdump" is a small node script: checks the
// waiting, stopping, naming and copying logic without root. The real thing runs in
// capture-lab.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { BackendKind, BackgroundProcess, LabBackend } from "../backend.ts";
import { startCaptures, tcpdumpArgv } from "./capture.ts";
import { readPcap } from "../analysis/read-pcap.ts";
import { UNUSED_BACKEND_PARTS } from "../testing/fake-backend.ts";

// Pretends to be tcpdump: "listening on" to stderr, a pcap with one packet on SIGTERM.
const FAKE_TCPDUMP = `
const argv = process.argv.slice(1);
const dev = argv[argv.indexOf("-i") + 1];
const file = argv[argv.indexOf("-w") + 1];
if (dev === "missing") {
  console.error("tcpdump: missing: No such device exists");
  process.exit(1);
}
if (dev !== "hang") setTimeout(() => console.error("tcpdump: listening on " + dev), 100);
process.on("SIGTERM", () => {
  const b = Buffer.alloc(24 + 16 + 20);
  b.writeUInt32LE(0xa1b2c3d4, 0); b.writeUInt16LE(2, 4); b.writeUInt16LE(4, 6);
  b.writeUInt32LE(65535, 16); b.writeUInt32LE(101, 20);
  b.writeUInt32LE(20, 32); b.writeUInt32LE(20, 36);
  b[40] = 0x45; b.writeUInt16BE(20, 42); b[48] = 64; b[49] = 6;
  b.set([198, 51, 100, 2, 203, 0, 113, 5], 52);
  require("fs").writeFileSync(file, b);
  console.error("1 packet captured\\n1 packet received by filter\\n0 packets dropped by kernel");
  process.exit(0);
});
setInterval(() => {}, 1000);
`;

function fakeBackend(kind: BackendKind, root: string): LabBackend & { calls: string[][] } {
  const calls: string[][] = [];
  // Compose hosts have their own filesystem: map their paths into a folder per host.
  const inHost = (host: string, p: string) => (kind === "compose" ? path.join(root, host, p) : p);
  return {
    ...UNUSED_BACKEND_PARTS,
    kind,
    name: "fake",
    calls,
    up: () => Promise.resolve(),
    down: () => Promise.resolve(),
    isUp: () => Promise.resolve(true),
    exec: () => Promise.resolve({ code: 0, stdout: "", stderr: "" }),
    spawn(host, argv, logFile): Promise<BackgroundProcess> {
      calls.push([host, ...argv]);
      const args = [...argv];
      const w = args.indexOf("-w");
      args[w + 1] = inHost(host, args[w + 1]);
      fs.mkdirSync(path.dirname(args[w + 1]), { recursive: true });
      const fd = fs.openSync(logFile, "w");
      const child = spawn(process.execPath, ["-e", FAKE_TCPDUMP, ...args], {
        stdio: ["ignore", fd, fd],
      });
      fs.closeSync(fd);
      const exited = new Promise<number>((r) => child.on("exit", (code) => r(code ?? 143)));
      return Promise.resolve({
        exited,
        async stop() {
          if (child.exitCode === null) child.kill("SIGTERM");
          await exited;
        },
      });
    },
    copyOut(host, remote, local) {
      const from = inHost(host, remote);
      if (path.resolve(from) !== path.resolve(local)) fs.copyFileSync(from, local);
      return Promise.resolve();
    },
    program: (script, args) => [script, ...args],
  };
}

const SEGMENTS = [
  { segment: "public", host: "director", device: "eth0" },
  { segment: "tun", host: "director", device: "lvs0" },
];

test("tcpdump keeps whole IPv4 packets, delivers at once, writes per packet, as root", () => {
  assert.deepEqual(tcpdumpArgv("eth1", "/a/private.pcap"), [
    "tcpdump",
    "-i",
    "eth1",
    "-p",
    "-n",
    "--immediate-mode",
    "-B",
    "32768",
    "-U",
    "-s",
    "65535",
    "-Z",
    "root",
    "-w",
    "/a/private.pcap",
  ]);
});

for (const kind of ["netns", "compose"] as const) {
  test(`${kind}: captures start once listening and stop into <segment>.pcap in the artifacts folder`, async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-capture-"));
    try {
      const backend = fakeBackend(kind, root);
      const artifacts = path.join(root, "artifacts");
      const handle = await startCaptures(backend, SEGMENTS, artifacts);
      assert.equal(fs.existsSync(path.join(artifacts, "public.tcpdump.log")), true);
      const written = backend.calls.map((c) => c[c.length - 1]);
      assert.deepEqual(
        written,
        kind === "netns"
          ? [path.join(artifacts, "public.pcap"), path.join(artifacts, "tun.pcap")]
          : ["/tmp/lvslab-capture-public.pcap", "/tmp/lvslab-capture-tun.pcap"],
      );
      const files = await handle.stop();
      assert.deepEqual(files.map((f) => [f.segment, f.host, f.device, f.path]), [
        ["public", "director", "eth0", path.join(artifacts, "public.pcap")],
        ["tun", "director", "lvs0", path.join(artifacts, "tun.pcap")],
      ]);
      assert.equal(files[0].packetsCaptured, 1);
      assert.equal(files[0].droppedByKernel, 0);
      const cap = await readPcap(files[1].path);
      assert.equal(cap.packets[0].src, "198.51.100.2");
      assert.equal(await handle.stop(), await handle.stop(), "stop is idempotent");
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
}

test("a tcpdump that fails to start is reported with its output, and the others are stopped", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-capture-"));
  try {
    const backend = fakeBackend("netns", root);
    const segments = [...SEGMENTS, { segment: "bad", host: "director", device: "missing" }];
    await assert.rejects(
      startCaptures(backend, segments, root),
      /tcpdump on director missing \(segment bad\) exited with code 1; its output:\ntcpdump: missing: No such device exists/,
    );
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("a tcpdump that never reports listening times out", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-capture-"));
  try {
    const backend = fakeBackend("netns", root);
    const started = Date.now();
    await assert.rejects(
      startCaptures(backend, [{ segment: "x", host: "director", device: "hang" }], root, {
        readyTimeoutMs: 500,
      }),
      /did not report "listening on" within 0.5 s/,
    );
    assert.ok(Date.now() - started < 5000);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("segment names must be usable as file names and unique", async () => {
  const backend = fakeBackend("netns", os.tmpdir());
  await assert.rejects(
    startCaptures(backend, [{ segment: "../x", host: "director", device: "eth0" }], os.tmpdir()),
    /cannot name a file/,
  );
  await assert.rejects(
    startCaptures(backend, [SEGMENTS[0], SEGMENTS[0]], os.tmpdir()),
    /listed twice/,
  );
});
