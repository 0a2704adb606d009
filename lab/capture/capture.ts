// lab/capture/: tcpdump per segment (segments.ts says which), with offloads off (offload.ts).
//
// tcpdump on every capture point of a run, into classic pcap (libpcap 2.4) files that open
// in Wireshark and in lab/analysis/read-pcap.ts. Start waits until each tcpdump is really
// listening; stop ends them with SIGTERM (so the files are flushed) and brings the files
// into the artifacts folder. Every wait is bounded.
import fs from "node:fs";
import path from "node:path";
import type { BackgroundProcess, CaptureSegment, LabBackend } from "../backend.ts";

export interface CaptureFile extends CaptureSegment {
  /** The pcap file on this machine: <artifactsDir>/<segment>.pcap. */
  path: string;
  /** tcpdump's own counts at exit ("N packets captured", "N packets dropped by kernel"). */
  packetsCaptured: number | null;
  droppedByKernel: number | null;
}

export interface CaptureHandle {
  readonly segments: readonly CaptureSegment[];
  /** Stops every tcpdump, copies the files out and describes them; later calls return the same. */
  stop(): Promise<CaptureFile[]>;
}

export interface CaptureOptions {
  /** How long each tcpdump may take to report it is listening (default 10 s). */
  readyTimeoutMs?: number;
  /** How long stopping and copying out may take in all (default 20 s). */
  stopTimeoutMs?: number;
  /** Pause before stopping, so packets just sent reach tcpdump (default 200 ms). */
  settleMs?: number;
}

interface Running {
  segment: CaptureSegment;
  process: BackgroundProcess;
  remotePath: string;
  localPath: string;
  logFile: string;
}

/** tcpdump's capture ring per device, in KiB (-B). */
export const RING_BUFFER_KIB = 32768;
/** Bytes kept per packet: the largest IPv4 packet. */
export const SNAPSHOT_LENGTH = 65535;

const SEGMENT_NAME = /^[A-Za-z0-9_-]{1,32}$/;

/** Where tcpdump writes inside the host: in place for netns (shared filesystem), /tmp else. */
export function remoteCapturePath(backend: LabBackend, localPath: string, segment: string): string {
  return backend.kind === "netns" ? localPath : `/tmp/lvslab-capture-${segment}.pcap`;
}

/**
 * tcpdump argv: whole packets, written per packet (-U), not promiscuous, pcap 2.4.
 *
 * -s 65535: no IPv4 packet is longer, so nothing is cut on the TUN device (raw IP); on the
 * veths the packets are MTU-sized once offloads are off. (-s 0 means 262144, and in
 * immediate mode every ring slot is that large on a device with offloads such as the TUN:
 * 4 times fewer slots for the same memory, and bursts were dropped.)
 * --immediate-mode: otherwise the kernel hands packets over in blocks (up to 1 s late) and
 * the packets of the last block are lost when tcpdump is stopped.
 * -B: a 32 MB ring per device instead of 2 MB, so load bursts are not dropped.
 * -Z root: tcpdump would otherwise drop to user "tcpdump" before opening the file and
 * fail to write into an artifacts folder owned by root.
 */
export function tcpdumpArgv(device: string, file: string): string[] {
  return [
    "tcpdump",
    "-i",
    device,
    "-p",
    "-n",
    "--immediate-mode",
    "-B",
    String(RING_BUFFER_KIB),
    "-U",
    "-s",
    String(SNAPSHOT_LENGTH),
    "-Z",
    "root",
    "-w",
    file,
  ];
}

function readLog(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

function tail(text: string, lines = 10): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n") || "(nothing)";
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves once the log shows "listening on"; rejects if tcpdump exits or time runs out. */
async function waitListening(r: Running, timeoutMs: number): Promise<void> {
  let exitCode: number | null = null;
  r.process.exited.then((code) => (exitCode = code), () => (exitCode = -1));
  const deadline = Date.now() + timeoutMs;
  const where = `tcpdump on ${r.segment.host} ${r.segment.device} (segment ${r.segment.segment})`;
  while (Date.now() < deadline) {
    const log = readLog(r.logFile);
    if (log.includes("listening on")) return;
    if (exitCode !== null) {
      throw new Error(`${where} exited with code ${exitCode}; its output:\n${tail(log)}`);
    }
    await sleep(50);
  }
  throw new Error(
    `${where} did not report "listening on" within ${timeoutMs / 1000} s; its output:\n` +
      tail(readLog(r.logFile)),
  );
}

function tcpdumpCount(log: string, pattern: RegExp): number | null {
  const m = pattern.exec(log);
  return m ? Number(m[1]) : null;
}

async function stopAll(running: Running[]): Promise<void> {
  await Promise.allSettled(running.map((r) => r.process.stop()));
}

/**
 * Starts one tcpdump per segment and resolves once all are listening. Files become
 * <artifactsDir>/<segment>.pcap, tcpdump's output <artifactsDir>/<segment>.tcpdump.log.
 */
export async function startCaptures(
  backend: LabBackend,
  segments: readonly CaptureSegment[],
  artifactsDir: string,
  options: CaptureOptions = {},
): Promise<CaptureHandle> {
  const dir = path.resolve(artifactsDir);
  const names = new Set<string>();
  for (const s of segments) {
    if (!SEGMENT_NAME.test(s.segment)) {
      throw new Error(
        `segment name '${s.segment}' cannot name a file; use letters, digits, - and _`,
      );
    }
    if (names.has(s.segment)) throw new Error(`segment '${s.segment}' is listed twice`);
    names.add(s.segment);
  }
  fs.mkdirSync(dir, { recursive: true });
  const running: Running[] = [];
  try {
    for (const segment of segments) {
      const localPath = path.join(dir, `${segment.segment}.pcap`);
      const logFile = path.join(dir, `${segment.segment}.tcpdump.log`);
      // A stale file from an earlier run must not pass for this run's capture.
      fs.rmSync(localPath, { force: true });
      const remotePath = remoteCapturePath(backend, localPath, segment.segment);
      const process = await backend.spawn(
        segment.host,
        tcpdumpArgv(segment.device, remotePath),
        logFile,
      );
      running.push({ segment, process, remotePath, localPath, logFile });
    }
    await Promise.all(running.map((r) => waitListening(r, options.readyTimeoutMs ?? 10_000)));
  } catch (err) {
    await stopAll(running);
    throw err;
  }

  let stopped: Promise<CaptureFile[]> | null = null;
  const stop = async (): Promise<CaptureFile[]> => {
    await sleep(options.settleMs ?? 200);
    await stopAll(running);
    const files: CaptureFile[] = [];
    for (const r of running) {
      await backend.copyOut(r.segment.host, r.remotePath, r.localPath);
      let size = -1;
      try {
        size = fs.statSync(r.localPath).size;
      } catch {
        // Reported below.
      }
      const log = readLog(r.logFile);
      if (size < 24) {
        throw new Error(
          `the capture of segment '${r.segment.segment}' (${r.localPath}) is missing or empty; ` +
            `tcpdump said:\n${tail(log)}`,
        );
      }
      files.push({
        ...r.segment,
        path: r.localPath,
        packetsCaptured: tcpdumpCount(log, /(\d+) packets? captured/),
        droppedByKernel: tcpdumpCount(log, /(\d+) packets? dropped by kernel/),
      });
    }
    return files;
  };
  return {
    segments: [...segments],
    stop() {
      stopped ??= withTimeout(stop(), options.stopTimeoutMs ?? 20_000, "stopping the captures");
      return stopped;
    },
  };
}
