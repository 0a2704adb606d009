// The ftp step: curl in the client host against ftp://VIP/ in passive or active mode. The
// step makes the files itself (random bytes: on the FTP server's anonymous pub/ directory
// for downloads, in a scratch folder of the client for uploads), carries every transfer of
// the step in ONE curl run (operations joined with --next, so curl reuses its one control
// connection and the director's sequence corrections pile up), then compares sha256 at both
// ends and removes what it made. Everything runs inside the lab hosts through the backend,
// so the same step works on network namespaces and on Compose containers.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { LabBackend } from "../backend.ts";
import type { CommandResult } from "../netns/command.ts";
import { stateDir } from "../state.ts";
import { defaultTopology, type Topology } from "../topology.ts";
import type { FtpStep } from "./steps/ftp.ts";

export type FtpOutcome = "intact" | "corrupted" | "failed";

export interface FtpTransfer {
  /** 1-based, in the order curl carried them out. */
  index: number;
  direction: "download" | "upload";
  size: number;
  /** The file's name in the server's pub/ directory. */
  remote: string;
  /** sha256 of the file where it came from (the server for downloads, the client for uploads). */
  sent: string | null;
  /** sha256 of what arrived at the other end (null: nothing arrived). */
  received: string | null;
  outcome: FtpOutcome;
}

/** What one ftp step did, as the assertions read it. */
export interface FtpSummary {
  mode: "passive" | "active";
  extended: boolean;
  /** "203.0.113.5:21". */
  target: string;
  transfers: FtpTransfer[];
  outcomes: Record<FtpOutcome, number>;
  /** Control connections curl opened ("Trying VIP:21..." lines). */
  controlConnections: number;
  /** Times curl said "Re-using existing connection". */
  reused: number;
  /** Control-channel lines curl saw or sent. */
  replies: {
    /** 227 replies, and those naming the VIP (as the director rewrote them). */
    pasv: number;
    pasvToVip: number;
    epsv: number;
    port: number;
    eprt: number;
  };
  curlExit: number;
  /** Bytes moved in all (sizes of the transfers). */
  bytes: number;
}

/** The lab host that runs the FTP server (rs2 in the default topology) and its listen address. */
export function ftpHost(topology: Topology = defaultTopology()): { host: string; listen: string } {
  const h = topology.hosts.find((x) => x.ftp);
  if (!h) throw new Error("the topology has no FTP server host");
  return { host: h.name, listen: h.ftp!.listen };
}

/**
 * The FTP server's anonymous root inside its host: lab/lab.ts starts it with
 * <state dir>/<host>-ftp for netns, docker/entrypoints/realserver.sh with
 * /srv/lvslab/<host>-ftp in the container. Uploads land in its pub/ directory.
 */
export function ftpRoot(backend: LabBackend, host: string): string {
  return backend.kind === "netns"
    ? path.join(stateDir(backend.name), `${host}-ftp`)
    : `/srv/lvslab/${host}-ftp`;
}

/** "20 MiB", "1 KiB", "512 bytes", "40.1 MiB". */
export function sizeText(n: number): string {
  const MiB = 1024 * 1024;
  if (n >= MiB) return n % MiB === 0 ? `${n / MiB} MiB` : `${(n / MiB).toFixed(1)} MiB`;
  if (n >= 1024) return n % 1024 === 0 ? `${n / 1024} KiB` : `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/** curl's options for one operation of the given mode. */
export function modeArgs(step: Pick<FtpStep, "mode" | "extended">): string[] {
  if (step.mode === "active") {
    // -P -: PORT/EPRT with the address of the control connection's own end.
    return ["-P", "-", ...(step.extended ? [] : ["--disable-eprt"])];
  }
  // Use the address of the 227 reply, as classic FTP clients do (curl would otherwise
  // ignore it and reconnect to the control connection's address): the rewrite then matters.
  return [...(step.extended ? [] : ["--disable-epsv"]), "--no-ftp-skip-pasv-ip"];
}

export interface PlannedTransfer {
  direction: "download" | "upload";
  size: number;
  /** Name in the server's pub/ directory. */
  remote: string;
  /** Path in the client host (download target, upload source). */
  local: string;
}

/** Every transfer of the step in order: per round the downloads, then the uploads. */
export function planTransfers(step: FtpStep, tag: string, clientDir: string): PlannedTransfer[] {
  const plan: PlannedTransfer[] = [];
  for (let round = 0; round < step.repeat; round++) {
    for (const size of step.download) {
      plan.push({
        direction: "download",
        size,
        remote: `lvslab-${tag}-down-${size}.bin`,
        local: `${clientDir}/down-${plan.length + 1}.bin`,
      });
    }
    for (const size of step.upload) {
      plan.push({
        direction: "upload",
        size,
        remote: `lvslab-${tag}-up-${plan.length + 1}.bin`,
        local: `${clientDir}/up-${size}.bin`,
      });
    }
  }
  return plan;
}

/** The curl argv carrying the whole plan over one control connection. */
export function curlArgv(
  step: FtpStep,
  vip: string,
  plan: readonly PlannedTransfer[],
  maxSeconds: number,
): string[] {
  const base = `ftp://${vip}:${step.vport}/pub/`;
  const argv = ["curl"];
  plan.forEach((t, i) => {
    if (i > 0) argv.push("--next");
    // --next starts a fresh set of options: repeat them for every operation.
    argv.push(
      "-sS",
      "-v",
      "--connect-timeout",
      "5",
      "--max-time",
      String(maxSeconds),
      ...modeArgs(step),
      ...(step.rate ? ["--limit-rate", String(step.rate)] : []),
    );
    argv.push(...(t.direction === "download" ? ["-o", t.local] : ["-T", t.local]));
    argv.push(base + t.remote);
  });
  return argv;
}

/** Counts in curl's verbose output. */
export function readCurlLog(log: string, vip: string, vport: number) {
  const lines = log.split("\n");
  const count = (re: RegExp) => lines.filter((l) => re.test(l)).length;
  const esc = (s: string) => s.replace(/[.]/g, "\\.");
  return {
    controlConnections: count(new RegExp(`^\\*\\s+Trying ${esc(vip)}:${vport}\\.\\.\\.`)),
    reused: count(/Re-using existing connection/),
    replies: {
      pasv: count(/^< 227 /),
      pasvToVip: count(new RegExp(`^< 227 Entering Passive Mode \\(${vip.replace(/\./g, ",")},`)),
      epsv: count(/^< 229 /),
      port: count(/^> PORT /),
      eprt: count(/^> EPRT /),
    },
  };
}

/** "hash  path" lines of sha256sum → path → hash. */
export function parseSha256sum(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (m) out.set(m[2], m[1]);
  }
  return out;
}

/**
 * sh script: `cd dir`, then for each "name size" pair make the file from /dev/urandom, then
 * print the sha256 of every file made.
 */
const MAKE_FILES = 'set -e; cd "$1"; shift; made=""; ' +
  'while [ $# -gt 1 ]; do head -c "$2" /dev/urandom > "$1"; made="$made $1"; shift 2; done; ' +
  "sha256sum $made";
/** sh script: the sha256 of each file that exists in dir (missing ones are left out). */
const HASH_FILES = 'cd "$1"; shift; for f in "$@"; do [ -f "$f" ] && sha256sum "$f"; done; true';

export interface FtpRunOptions {
  /** Bound for the curl run in all (the scenario's remaining time). */
  budget: (wantedMs: number) => number;
  /** Where curl's verbose output is kept. */
  logFile: string;
  /** Names the step's files; unique per run (default: random). */
  tag?: string;
  /** The FTP server's anonymous root in its host (default ftpRoot). */
  root?: string;
  /** The lab's topology, where the FTP server host is found (default: the article's lab). */
  topology?: Topology;
}

async function must(what: string, r: Promise<CommandResult>): Promise<CommandResult> {
  const res = await r;
  if (res.code !== 0) {
    throw new Error(`${what} failed (exit ${res.code}): ${(res.stderr || res.stdout).trim()}`);
  }
  return res;
}

/** Makes files of random bytes in `dir` of `host`; returns their sha256 by name. */
async function makeFiles(
  exec: (host: string, argv: string[]) => Promise<CommandResult>,
  host: string,
  dir: string,
  files: readonly { name: string; size: number }[],
  what: string,
): Promise<Map<string, string>> {
  if (!files.length) return new Map<string, string>();
  const made = await must(
    what,
    exec(host, [
      "sh",
      "-c",
      MAKE_FILES,
      "make",
      dir,
      ...files.flatMap((f) => [f.name, String(f.size)]),
    ]),
  );
  return parseSha256sum(made.stdout);
}

/** Each planned transfer with the sha256 it left and the one that arrived. */
function compare(
  plan: readonly PlannedTransfer[],
  sums: Record<"serverMade" | "clientMade" | "got" | "landed", Map<string, string>>,
): FtpTransfer[] {
  const { serverMade, clientMade, got, landed } = sums;
  return plan.map((t, i) => {
    const sent = t.direction === "download"
      ? serverMade.get(t.remote) ?? null
      : clientMade.get(path.posix.basename(t.local)) ?? null;
    const received = t.direction === "download"
      ? got.get(path.posix.basename(t.local)) ?? null
      : landed.get(t.remote) ?? null;
    const outcome: FtpOutcome = received === null
      ? "failed"
      : received === sent
      ? "intact"
      : "corrupted";
    return {
      index: i + 1,
      direction: t.direction,
      size: t.size,
      remote: t.remote,
      sent,
      received,
      outcome,
    };
  });
}

/** Carries out an ftp step on the backend's lab; throws only when it cannot be set up. */
export async function runFtpStep(
  backend: LabBackend,
  step: FtpStep,
  vip: string,
  options: FtpRunOptions,
): Promise<FtpSummary> {
  const { host: server } = ftpHost(options.topology);
  const root = options.root ?? ftpRoot(backend, server);
  const pub = `${root}/pub`;
  const tag = options.tag ?? crypto.randomBytes(4).toString("hex");
  const clientDir = `/tmp/lvslab-ftp-${tag}`;
  const plan = planTransfers(step, tag, clientDir);
  const downloads = [...new Set(step.download)].map((size) => ({
    name: `lvslab-${tag}-down-${size}.bin`,
    size,
  }));
  const uploads = [...new Set(step.upload)].map((size) => ({ name: `up-${size}.bin`, size }));
  const uploaded = plan.filter((t) => t.direction === "upload").map((t) => t.remote);
  const exec = (host: string, argv: string[], ms = 60_000) =>
    backend.exec(host, argv, { timeoutMs: options.budget(ms) });
  try {
    const check = await exec(server, ["test", "-d", pub]);
    if (check.code !== 0) {
      throw new Error(
        `the FTP server's directory ${pub} is missing in host ${server} (does vsftpd run there?)`,
      );
    }
    // Sources: on the server for downloads, on the client for uploads.
    const serverMade = await makeFiles(
      exec,
      server,
      pub,
      downloads,
      `making the download files in ${server}:${pub}`,
    );
    await must(`making ${clientDir} in the client`, exec("client", ["mkdir", "-p", clientDir]));
    const clientMade = await makeFiles(
      exec,
      "client",
      clientDir,
      uploads,
      `making the upload files in client:${clientDir}`,
    );

    const maxSeconds = Math.max(1, Math.ceil(step.timeoutMs / 1000));
    const curl = await backend.exec(
      "client",
      curlArgv(step, vip, plan, maxSeconds),
      { timeoutMs: options.budget(plan.length * step.timeoutMs + 10_000) },
    );
    fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
    fs.writeFileSync(options.logFile, `$ curl (${plan.length} transfers)\n${curl.stderr}`);

    // What arrived: downloads on the client, uploads on the server.
    const got = parseSha256sum(
      (await exec("client", [
        "sh",
        "-c",
        HASH_FILES,
        "hash",
        clientDir,
        ...plan.filter((t) => t.direction === "download").map((t) => path.posix.basename(t.local)),
      ])).stdout,
    );
    const landed = parseSha256sum(
      (await exec(server, ["sh", "-c", HASH_FILES, "hash", pub, ...uploaded])).stdout,
    );
    const transfers = compare(plan, { serverMade, clientMade, got, landed });
    const outcomes: Record<FtpOutcome, number> = { intact: 0, corrupted: 0, failed: 0 };
    for (const t of transfers) outcomes[t.outcome]++;
    return {
      mode: step.mode,
      extended: step.extended,
      target: `${vip}:${step.vport}`,
      transfers,
      outcomes,
      ...readCurlLog(curl.stderr, vip, step.vport),
      curlExit: curl.code,
      bytes: plan.reduce((n, t) => n + t.size, 0),
    };
  } finally {
    // The files are large: never leave them behind (the netns server's root is on /run).
    await backend.exec("client", ["rm", "-rf", clientDir], { timeoutMs: 10_000 }).catch(
      () => {},
    );
    const names = [...downloads.map((d) => d.name), ...uploaded];
    await backend.exec(server, [
      "sh",
      "-c",
      'cd "$1" && shift && rm -f -- "$@"',
      "rm",
      pub,
      ...names,
    ], {
      timeoutMs: 10_000,
    }).catch(() => {});
  }
}

/** One line for the report: "4 transfers (2 downloads, 2 uploads, passive): 4 intact, ...". */
export function describeFtp(s: FtpSummary): string {
  const down = s.transfers.filter((t) => t.direction === "download").length;
  const up = s.transfers.length - down;
  const replies = s.mode === "passive"
    ? s.extended
      ? `${s.replies.epsv} 229 replies`
      : `${s.replies.pasvToVip}/${s.replies.pasv} 227 replies naming the VIP`
    : s.extended
    ? `${s.replies.eprt} EPRT commands`
    : `${s.replies.port} PORT commands`;
  const bad = s.outcomes.corrupted || s.outcomes.failed
    ? `, ${s.outcomes.corrupted} corrupted, ${s.outcomes.failed} failed (curl exit ${s.curlExit})`
    : "";
  return `${s.transfers.length} transfers to ${s.target} (${down} down, ${up} up, ${s.mode}${
    s.extended ? " extended" : ""
  }, ${sizeText(s.bytes)} in all): ${s.outcomes.intact} intact${bad}; ` +
    `${s.controlConnections} control connection(s), ${s.reused} reused; ${replies}`;
}
