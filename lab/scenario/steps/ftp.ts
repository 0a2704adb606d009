// The ftp step: transfers with curl through VIP:21 in passive or active mode, all on one
// control connection, each file's sha256 compared at both ends (the machinery is in
// ../ftp-step.ts).
import path from "node:path";
import { z } from "zod";
import { count, id, ipv4, ms, port } from "../fields.ts";
import { describeFtp, type FtpSummary, runFtpStep } from "../ftp-step.ts";
import { noTcpService } from "./common.ts";
import { scenarioTopology } from "../topology.ts";
import type { StepCheckContext, StepKindDef } from "./types.ts";

/** Largest file an ftp step may create and move (64 MiB). */
export const MAX_FTP_FILE = 64 * 1024 * 1024;
/** Most transfers one ftp step may carry, and most bytes in all. */
export const MAX_FTP_TRANSFERS = 200;
export const MAX_FTP_BYTES = 512 * 1024 * 1024;

/** "1k" → 1024, "20m" → 20 MiB, "512" or 512 → 512 bytes; NaN when it is no size. */
export function parseSize(text: string | number): number {
  if (typeof text === "number") return text;
  const m = /^(\d+)\s*(?:([kKmM])[bB]?|[bB])?$/.exec(text.trim());
  if (!m) return NaN;
  const unit = m[2]?.toLowerCase();
  return Number(m[1]) * (unit === "k" ? 1024 : unit === "m" ? 1024 * 1024 : 1);
}

const fileSize = z.union([z.number(), z.string()])
  .transform((v) => parseSize(v))
  .pipe(
    z.number({ message: "a size is a number of bytes or like 1k, 20m (KiB, MiB)" }).int({
      message: "a size is a whole number of bytes or like 1k, 20m (KiB, MiB)",
    }).min(1, { message: "a file has at least 1 byte" }).max(MAX_FTP_FILE, {
      message: `a file is at most 64m (${MAX_FTP_FILE} bytes)`,
    }),
  );

const schema = z.strictObject({
  id: id.optional(),
  vip: ipv4.optional(),
  vport: port.default(21),
  /** passive: the client opens the data connections (PASV); active: the server does (PORT). */
  mode: z.enum(["passive", "active"]).default("passive"),
  /** EPSV/EPRT (229 replies) instead of PASV/PORT (227 replies). */
  extended: z.boolean().default(false),
  /** Sizes of files the step puts on the FTP server and downloads. */
  download: z.array(fileSize).max(MAX_FTP_TRANSFERS).default([]),
  /** Sizes of files the step makes on the client and uploads. */
  upload: z.array(fileSize).max(MAX_FTP_TRANSFERS).default([]),
  /** The downloads and uploads this many times over, all on one control connection. */
  repeat: count(MAX_FTP_TRANSFERS).default(1),
  /** Bound for each transfer. */
  timeoutMs: ms(300_000).default(60_000),
  /** Bytes per second for each transfer (curl --limit-rate), e.g. 40m; none: as fast as it goes. */
  rate: z.union([z.number(), z.string()]).transform((v) => parseSize(v)).pipe(
    z.number({ message: "a rate is bytes per second, like 40m" }).int({
      message: "a rate is whole bytes per second, like 40m",
    }).min(1024, { message: "a rate is at least 1k (bytes per second)" }),
  ).optional(),
});

export type FtpStep = z.infer<typeof schema> & { kind: "ftp" };
export type FtpOutput = { kind: "ftp"; data: FtpSummary };

/**
 * An ftp step needs a TCP service at its VIP:port whose real server is a host's FTP server,
 * and stays within the bounds on transfers and bytes.
 */
function check(step: FtpStep, ctx: StepCheckContext, where: string, problems: string[]): void {
  const s = ctx.scenario;
  const vip = step.vip ?? s.vip;
  const service = s.services.services.find((v) =>
    v.protocol === "tcp" && v.address === vip && v.port === step.vport
  );
  // A host's FTP server by its listen address, or by the host's own addresses at the
  // listen port (a DR real server listens on the VIP and is addressed by its own).
  const ftpServers = scenarioTopology(s).hosts.flatMap((h) => {
    if (!h.ftp) return [];
    const port = h.ftp.listen.split(":")[1];
    const own = h.interfaces.map((i) => `${i.address.split("/")[0]}:${port}`);
    return [...new Set([h.ftp.listen, ...own])];
  });
  if (!service) {
    problems.push(noTcpService(where, vip, step.vport));
  } else if (
    !service.servers.some((d) => ftpServers.includes(`${d.address}:${d.port ?? service.port}`))
  ) {
    problems.push(
      `${where}: no real server of ${vip}:${step.vport} is the lab's FTP server (${
        ftpServers.join(", ") || "none"
      })`,
    );
  }
  const sizes = [...step.download, ...step.upload];
  const transfers = sizes.length * step.repeat;
  const bytes = sizes.reduce((a, b) => a + b, 0) * step.repeat;
  if (transfers === 0) {
    problems.push(
      `${where}: give the sizes to download, upload, or both (like download: [1k, 20m])`,
    );
  } else if (transfers > MAX_FTP_TRANSFERS) {
    problems.push(
      `${where}: ${transfers} transfers (files x repeat); at most ${MAX_FTP_TRANSFERS}`,
    );
  }
  if (bytes > MAX_FTP_BYTES) {
    problems.push(
      `${where}: ${Math.round(bytes / 1024 / 1024)} MiB in all; at most ${
        MAX_FTP_BYTES / 1024 / 1024
      } MiB`,
    );
  }
}

export const ftpStep: StepKindDef<FtpStep, FtpOutput> = {
  kind: "ftp",
  description: "FTP downloads and uploads with curl through the director, checked by sha256",
  schema,
  leavesResult: true,
  check,
  async run(step, ctx) {
    const data = await runFtpStep(ctx.backend, step, ctx.vip, {
      budget: (ms) => ctx.budget(ms),
      topology: scenarioTopology(ctx.scenario),
      logFile: path.join(ctx.logDir, `ftp-${step.id ?? `step${ctx.index}`}.log`),
    });
    ctx.note(step.id, { kind: "ftp", data }, { vport: step.vport, protocol: "tcp" });
    return describeFtp(data);
  },
};
