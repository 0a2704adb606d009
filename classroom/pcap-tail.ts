// Reads a pcap file while tcpdump is still writing it (tcpdump -U --immediate-mode writes each
// packet as it is captured, lab/capture/capture.ts): every poll reads the bytes appended since
// the last one and hands over each whole record, decoded. Why a file and not `-w -`: the file
// is also the run's record (older events than the page's ring stay in it) and it is what the
// scenario captures already write, so one tcpdump serves both. A poll every 40 ms keeps the
// delay far under the second of libpcap's block buffering the research note measured.
import fs from "node:fs";
import { decodeFrame, SUPPORTED_LINK_TYPES } from "../lab/analysis/decode.ts";
import type { Packet } from "../lab/analysis/packet.ts";

export const POLL_MS = 40;
/** pcap global header and record header lengths (libpcap 2.4). */
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
/** A record longer than this is not a packet of ours: the file is damaged. */
const MAX_RECORD = 262144;
/** Bytes read per poll at most, so a burst is taken in slices and the server keeps serving. */
const READ_CHUNK = 1 << 18;

export interface TailHandlers {
  packet(p: Packet, frame: Uint8Array, linkType: number): void;
  /** A frame that is not an IPv4 packet, or a damaged file: counted, never thrown. */
  skipped(reason: string): void;
}

export class PcapTail {
  private fd: number | null = null;
  private offset = 0;
  private pending = Buffer.alloc(0);
  private linkType = -1;
  private littleEndian = true;
  private nanoseconds = false;
  private frames = 0;
  private timer: NodeJS.Timeout | null = null;
  private broken: string | null = null;

  constructor(readonly path: string, private readonly handlers: TailHandlers) {}

  start(): void {
    this.timer = setInterval(() => this.poll(), POLL_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.poll();
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  /** Why the file can no longer be read, or null. */
  get problem(): string | null {
    return this.broken;
  }

  /** Reads what was appended; public so tests and stop() can drain synchronously. */
  poll(): void {
    if (this.broken) return;
    try {
      if (this.fd === null) {
        if (!fs.existsSync(this.path)) return;
        this.fd = fs.openSync(this.path, "r");
      }
      const chunk = Buffer.alloc(READ_CHUNK);
      const n = fs.readSync(this.fd, chunk, 0, READ_CHUNK, this.offset);
      if (n === 0) return;
      this.offset += n;
      this.pending = this.pending.length
        ? Buffer.concat([this.pending, chunk.subarray(0, n)])
        : chunk.subarray(0, n);
      this.consume();
    } catch (err) {
      this.broken = `${this.path} cannot be read: ${(err as Error).message}`;
      this.handlers.skipped(this.broken);
    }
  }

  private consume(): void {
    let at = 0;
    const b = this.pending;
    if (this.linkType === -1) {
      if (b.length < GLOBAL_HEADER) return;
      const le = b.readUInt32LE(0);
      const be = b.readUInt32BE(0);
      if (le === MAGIC_US || le === MAGIC_NS) this.littleEndian = true;
      else if (be === MAGIC_US || be === MAGIC_NS) this.littleEndian = false;
      else {
        this.broken = `${this.path} is not a pcap file (magic 0x${be.toString(16)})`;
        this.handlers.skipped(this.broken);
        return;
      }
      this.nanoseconds = (this.littleEndian ? le : be) === MAGIC_NS;
      this.linkType = this.u32(b, 20) & 0xffff;
      if (!SUPPORTED_LINK_TYPES.includes(this.linkType)) {
        this.broken = `${this.path}: link type ${this.linkType} is not supported`;
        this.handlers.skipped(this.broken);
        return;
      }
      at = GLOBAL_HEADER;
    }
    while (b.length - at >= RECORD_HEADER) {
      const seconds = this.u32(b, at);
      const fraction = this.u32(b, at + 4);
      const captured = this.u32(b, at + 8);
      const original = this.u32(b, at + 12);
      if (captured > MAX_RECORD) {
        this.broken = `${this.path} is damaged (a record of ${captured} bytes)`;
        this.handlers.skipped(this.broken);
        return;
      }
      if (b.length - at - RECORD_HEADER < captured) break;
      const start = at + RECORD_HEADER;
      // A copy: the packet outlives this read buffer (it sits in the event ring).
      const frame = new Uint8Array(b.subarray(start, start + captured));
      at = start + captured;
      this.frames++;
      const time = seconds + fraction / (this.nanoseconds ? 1e9 : 1e6);
      const r = decodeFrame(this.linkType, frame, {
        index: this.frames,
        time,
        originalLength: original,
      });
      if ("packet" in r) this.handlers.packet(r.packet, frame, this.linkType);
      else this.handlers.skipped(r.skipped);
    }
    this.pending = b.subarray(at);
  }

  private u32(b: Buffer, at: number): number {
    return this.littleEndian ? b.readUInt32LE(at) : b.readUInt32BE(at);
  }
}
