import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { extractFirstFile, headerSize } from "./tar-extract.ts";

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "lvslab-tar-"));
}

/** Makes a tar archive of `name` (a path inside dir) with the system's tar. */
function tarOf(dir: string, name: string, format: string): Buffer {
  const r = spawnSync("tar", [`--format=${format}`, "-C", dir, "-c", name]);
  assert.equal(r.status, 0, String(r.stderr));
  return r.stdout;
}

/** Feeds the archive in small uneven chunks, as a socket would. */
function chunked(buf: Buffer): Readable {
  const parts: Buffer[] = [];
  for (let i = 0, n = 1; i < buf.length; i += n, n = (n * 7 + 3) % 1500 + 1) {
    parts.push(buf.subarray(i, i + n));
  }
  return Readable.from(parts);
}

for (const format of ["ustar", "gnu", "pax"]) {
  test(`extracts the file of a ${format} archive, byte for byte`, async () => {
    const dir = tmpDir();
    try {
      // A long name forces GNU 'L' or pax 'x' entries before the file's own header.
      const name = `${"capture-".repeat(format === "ustar" ? 4 : 16)}public.pcap`;
      const content = crypto.randomBytes(70_001);
      fs.writeFileSync(path.join(dir, name), content);
      const archive = tarOf(dir, name, format);
      const out = path.join(dir, "out", "copy.pcap");
      const size = await extractFirstFile(chunked(archive), out);
      assert.equal(size, content.length);
      assert.deepEqual(fs.readFileSync(out), content);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("an empty file comes out empty", async () => {
  const dir = tmpDir();
  try {
    fs.writeFileSync(path.join(dir, "empty"), "");
    const out = path.join(dir, "copy");
    assert.equal(await extractFirstFile(chunked(tarOf(dir, "empty", "gnu")), out), 0);
    assert.equal(fs.readFileSync(out).length, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("an archive of a directory only is refused", async () => {
  const dir = tmpDir();
  try {
    fs.mkdirSync(path.join(dir, "d"));
    await assert.rejects(
      extractFirstFile(chunked(tarOf(dir, "d", "gnu")), path.join(dir, "x")),
      /no regular file/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("garbage and truncated archives are refused", async () => {
  const dir = tmpDir();
  try {
    await assert.rejects(
      extractFirstFile(Readable.from([Buffer.alloc(1024, 0x41)]), path.join(dir, "x")),
      /not a valid tar/,
    );
    fs.writeFileSync(path.join(dir, "f"), crypto.randomBytes(5000));
    const archive = tarOf(dir, "f", "gnu");
    await assert.rejects(
      extractFirstFile(Readable.from([archive.subarray(0, 2048)]), path.join(dir, "y")),
      /ended inside the file/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("sizes in octal and in base-256", () => {
  const header = Buffer.alloc(512);
  header.write("00000001750\0", 124, "latin1");
  assert.equal(headerSize(header), 0o1750);
  header.fill(0, 124, 136);
  header[124] = 0x80;
  header.writeUIntBE(9_000_000_000, 130, 6);
  assert.equal(headerSize(header), 9_000_000_000);
});
