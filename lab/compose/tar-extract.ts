// Reads the tar stream the Docker API returns for GET /containers/{id}/archive and writes the
// first regular file in it to a local path, streaming (captures can be large). Knows just
// enough tar for that: 512-byte headers, octal or base-256 sizes, and skipping the extra
// entries (pax 'x'/'g', GNU long names 'L'/'K', directories) that may come before the file.
import fs from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";

const BLOCK = 512;
/** Type flags of a regular file: '0' and the old NUL. */
const REGULAR = new Set([0x30, 0x00]);

/** The size field of a header: octal text, or base-256 when its first byte has bit 7 set. */
export function headerSize(header: Buffer): number {
  const field = header.subarray(124, 136);
  if (field[0] & 0x80) {
    let n = field[0] & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i];
    return n;
  }
  const text = field.toString("latin1").replace(/\0.*$/s, "").trim();
  return text === "" ? 0 : parseInt(text, 8);
}

/** The header's checksum holds (an all-zero block is the archive's end, not a header). */
function checksumOk(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
  const stored = parseInt(header.subarray(148, 156).toString("latin1").replace(/\0.*$/s, ""), 8);
  return stored === sum;
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

/**
 * Writes the first regular file of the tar `stream` to `localPath`; resolves with its size.
 * Rejects when the archive holds no regular file or is malformed.
 */
export function extractFirstFile(stream: Readable, localPath: string): Promise<number> {
  fs.mkdirSync(path.dirname(localPath), { recursive: true });
  return new Promise((resolve, reject) => {
    let pending = Buffer.alloc(0);
    // What the parser waits for: a header, the bytes of an entry to skip, or file content.
    let state: "header" | "skip" | "file" | "done" = "header";
    let left = 0; // bytes of the current entry's data still to come (padding included)
    let fileLeft = 0; // of those, bytes that belong to the file
    let fileSize = 0;
    let out: fs.WriteStream | null = null;
    let failed = false;

    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      stream.destroy();
      out?.destroy();
      reject(err);
    };
    const finish = () => {
      state = "done";
      stream.destroy();
      out!.end(() => resolve(fileSize));
    };

    const consume = (chunk: Buffer) => {
      let buf = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      pending = Buffer.alloc(0);
      while (buf.length > 0 && state !== "done") {
        if (state === "header") {
          if (buf.length < BLOCK) break;
          const header = buf.subarray(0, BLOCK);
          buf = buf.subarray(BLOCK);
          if (header.every((b) => b === 0)) {
            return fail(new Error("the archive holds no regular file"));
          }
          if (!checksumOk(header)) return fail(new Error("the archive is not a valid tar stream"));
          const size = headerSize(header);
          left = padded(size);
          if (REGULAR.has(header[156])) {
            state = "file";
            fileLeft = size;
            fileSize = size;
            out = fs.createWriteStream(localPath);
            out.on("error", fail);
            if (size === 0) return finish();
          } else {
            state = left > 0 ? "skip" : "header";
          }
        } else if (state === "skip") {
          const n = Math.min(left, buf.length);
          buf = buf.subarray(n);
          left -= n;
          if (left === 0) state = "header";
        } else {
          const n = Math.min(fileLeft, buf.length);
          const ok = out!.write(buf.subarray(0, n));
          buf = buf.subarray(n);
          fileLeft -= n;
          if (fileLeft === 0) return finish();
          if (!ok) {
            stream.pause();
            out!.once("drain", () => stream.resume());
          }
        }
      }
      if (buf.length > 0 && state === "header") pending = Buffer.from(buf);
    };

    stream.on("data", (chunk: Buffer) => {
      if (!failed && state !== "done") consume(chunk);
    });
    stream.on("error", (err) => {
      if (state !== "done") fail(err);
    });
    stream.on("end", () => {
      if (state === "done" || failed) return;
      fail(
        new Error(
          state === "file"
            ? "the archive ended inside the file"
            : "the archive holds no regular file",
        ),
      );
    });
  });
}
