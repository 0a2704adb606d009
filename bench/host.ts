// Facts about the host a bench ran on that explain why ratios differ between hosts of one
// class: the kernel build, and what one system call costs there (page-table isolation and
// other mitigations make it 0.6-2 µs on VMs of this class, and lvslab pays it per packet).
import fs from "node:fs";
import { runSync } from "../lab/netns/command.ts";
import { REPO_ROOT } from "../lab/paths.ts";

const WRITES_PER_BATCH = 100_000;
const BATCHES = 5;

/** Median over batches of one fs.writeSync of 64 bytes to /dev/null, in µs. */
export function writeSyncMicros(): number {
  const fd = fs.openSync("/dev/null", "w");
  const buf = Buffer.alloc(64);
  const perCall: number[] = [];
  try {
    for (let b = 0; b < BATCHES; b++) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < WRITES_PER_BATCH; i++) fs.writeSync(fd, buf, 0, 64);
      perCall.push(Number(process.hrtime.bigint() - start) / 1000 / WRITES_PER_BATCH);
    }
  } finally {
    fs.closeSync(fd);
  }
  perCall.sort((a, b) => a - b);
  return perCall[Math.floor(BATCHES / 2)];
}

/** The commit of the repository, with "+dirty" when tracked files have changes. */
export function benchCommit(): string | undefined {
  const head = runSync(["git", "-C", REPO_ROOT, "rev-parse", "--short=12", "HEAD"]);
  if (head.code !== 0) return undefined;
  const dirty = runSync(["git", "-C", REPO_ROOT, "status", "--porcelain", "--untracked-files=no"]);
  return head.stdout.trim() + (dirty.stdout.trim() !== "" ? "+dirty" : "");
}
