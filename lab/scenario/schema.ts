// Scenario files (scenarios/*.yaml): the lab, the service table, the traffic and run-time
// actions, and what must hold afterwards. The whole file is validated before a lab is built;
// every problem is one sentence naming the file, the step or assertion, and what is wrong.
// The format is documented in scenarios/README.md.
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { z } from "zod";
import { type DirectorConfig, parseDirectorConfig } from "../../director/config/service-config.ts";
import { parseIPv4 } from "../../director/net/ipv4-address.ts";
import { defaultTopology, isAllowedAddress, LAB_NAME_PATTERN, parseCidr } from "../topology.ts";

export const DEFAULT_SCENARIO_LAB = "lvsscn";

const id = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, {
  message: "an id is 1-32 lower-case letters, digits and dashes, starting with a letter",
});
const port = z.number().int().min(1).max(65535);
const ipv4 = z.ipv4({ message: "must be an IPv4 address like 203.0.113.5" });
const ms = (max: number) => z.number().int().min(0).max(max);
const count = (max: number) => z.number().int().min(1).max(max);
/** "rs1" or "172.16.0.2:80" → count. */
const serverCounts = z.record(z.string(), z.number().int().min(0));

// ---- steps ---------------------------------------------------------------------------

const httpStep = z.strictObject({
  id: id.optional(),
  vip: ipv4.optional(),
  vport: port.default(80),
  connections: count(20_000).default(10),
  /** GETs per connection: 1 is a new connection per request, more keep it alive. */
  requests: count(1000).default(1),
  concurrency: count(256).default(1),
  timeoutMs: ms(60_000).default(3000),
  /** Client source addresses to use in turn (see clientAddresses). */
  sources: z.array(ipv4).optional(),
});

const udpStep = z.strictObject({
  id: id.optional(),
  vip: ipv4.optional(),
  vport: port,
  count: count(10_000).default(10),
  size: count(65_000).default(64),
  timeoutMs: ms(10_000).default(1000),
});

const probeStep = z.strictObject({
  id: id.optional(),
  vip: ipv4.optional(),
  vport: port,
  count: count(1000).default(1),
  timeoutMs: ms(60_000).default(2000),
  /** Wait this long for a first line (a banner) after connecting. */
  bannerMs: ms(10_000).default(0),
});

const holdStep = z.strictObject({
  id,
  vip: ipv4.optional(),
  vport: port.default(80),
  count: count(200).default(1),
  /** A GET on each held connection this often; 0 sends only the first. */
  intervalMs: ms(600_000).default(1000),
  /** The holder ends by itself after this long (released earlier by a release step). */
  holdMs: count(300_000).default(120_000),
  timeoutMs: ms(60_000).default(2000),
  source: ipv4.optional(),
});

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

const ftpStep = z.strictObject({
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

const ipvsadmStep = z.union([
  z.string().min(1),
  z.strictObject({ args: z.string().min(1), expectCode: z.number().int().default(0) }),
]);

const tableStep = z.union([id, z.strictObject({ id })]);

export type HttpStep = z.infer<typeof httpStep> & { kind: "http" };
export type UdpStep = z.infer<typeof udpStep> & { kind: "udp" };
export type ProbeStep = z.infer<typeof probeStep> & { kind: "probe" };
export type HoldStep = z.infer<typeof holdStep> & { kind: "hold" };
export type FtpStep = z.infer<typeof ftpStep> & { kind: "ftp" };
export type Step =
  | HttpStep
  | UdpStep
  | ProbeStep
  | HoldStep
  | FtpStep
  | { kind: "release"; id: string }
  | { kind: "ipvsadm"; id?: string; args: string[]; expectCode: number }
  | { kind: "stop"; id: string }
  | { kind: "start"; id: string }
  | { kind: "wait"; ms: number }
  | { kind: "table"; id: string };

export type StepKind = Step["kind"];
export const STEP_KINDS: readonly StepKind[] = [
  "http",
  "udp",
  "probe",
  "hold",
  "ftp",
  "release",
  "ipvsadm",
  "stop",
  "start",
  "wait",
  "table",
];

/** Steps that produce a result assertions can name. */
export const RESULT_STEPS: readonly StepKind[] = ["http", "udp", "probe", "hold", "ftp", "table"];

// ---- assertions ----------------------------------------------------------------------

const distribution = z.strictObject({
  step: id,
  /** "address:port" of each real server → its weight. */
  weights: z.record(z.string(), z.number().int().min(0)),
  /** Chi-square significance level: the test fails when p < significance. */
  significance: z.number().gt(0).lt(1).default(0.001),
  from: z.array(z.enum(["client", "capture"])).min(1).default(["client", "capture"]),
});
const rewrite = z.strictObject({
  /** Check that every packet has its twin across the director; off where it drops on purpose. */
  twins: z.boolean().default(true),
}).nullable().default({ twins: true });
const oneServer = z.strictObject({}).nullable().default({});
const outcomes = z.strictObject({
  vip: ipv4.optional(),
  vport: port,
  protocol: z.enum(["tcp", "udp"]).default("tcp"),
  /** How every connection to the port ends, seen on the client network. */
  expect: z.enum(["accepted", "refused", "dropped"]).optional(),
  /** The real server:port every connection must reach on the private network. */
  server: z.string().optional(),
  minConnections: z.number().int().min(1).default(1),
});
const bounds = {
  exactly: serverCounts.optional(),
  atLeast: serverCounts.optional(),
  atMost: serverCounts.optional(),
};
const servers = z.strictObject({ step: id, ...bounds });
const results = z.strictObject({ step: id, ...bounds });
const sticky = z.strictObject({
  steps: z.array(id).min(1),
  by: z.enum(["connection", "source", "destination"]),
  /** At least this many different servers across the groups (shows the hash spreads). */
  minServers: z.number().int().min(1).default(1),
  /**
   * The server each group must have stayed on: a source address (by: source) or a VIP
   * (by: destination) → "rs1" or "172.16.0.2:80". A group named here must have been seen.
   */
  expect: z.record(ipv4, z.string().min(1)).optional(),
});
const held = z.strictObject({
  step: id,
  /** Only the connections held by this server ("rs1" or "172.16.0.2:80"). */
  server: z.string().optional(),
  ...bounds,
});
const entry = z.strictObject({
  /**
   * Only the entries of this hold step's connections (client address:port and the hold's
   * VIP:port), whatever their state unless `state` is given.
   */
  hold: id.optional(),
  protocol: z.enum(["tcp", "udp"]).optional(),
  state: z.string().optional(),
  vport: port.optional(),
  /** "address:port" of the real server. */
  destination: z.string().optional(),
  min: z.number().int().min(0).default(1),
  max: z.number().int().min(0).optional(),
  /** Every matching entry expires within this many seconds (not a longer timer). */
  maxExpireSeconds: z.number().int().min(0).optional(),
});
const table = z.strictObject({
  step: id,
  present: z.array(entry).default([]),
  absent: z.array(entry.omit({ min: true, max: true, maxExpireSeconds: true })).default([]),
});

const ftpCheck = z.strictObject({
  step: id,
  /** The control connections curl opened for all the step's transfers (1: one, reused). */
  controlConnections: z.number().int().min(1).optional(),
  /** Fewest transfers the step must have carried. */
  minTransfers: z.number().int().min(1).default(1),
});
const payload = z.strictObject({
  /** Which capture: the client network ("public") or the private network. */
  segment: z.enum(["public", "private"]),
  /** Only packets from or to this port (21: FTP control connections). */
  port: port.optional(),
  /** Texts that must each be in at least `min` packets. */
  present: z.array(z.string().min(1)).default([]),
  /** Texts no packet may carry. */
  absent: z.array(z.string().min(1)).default([]),
  min: z.number().int().min(1).default(1),
});

const ASSERTION_SCHEMAS = {
  distribution,
  rewrite,
  "one-connection-one-server": oneServer,
  outcomes,
  servers,
  results,
  sticky,
  held,
  table,
  ftp: ftpCheck,
  payload,
} as const;

export type AssertionKind = keyof typeof ASSERTION_SCHEMAS;
export const ASSERTION_KINDS = Object.keys(ASSERTION_SCHEMAS) as AssertionKind[];
export type AssertionSpec =
  | ({ kind: "distribution" } & z.infer<typeof distribution>)
  | { kind: "rewrite"; twins?: boolean }
  | { kind: "one-connection-one-server" }
  | ({ kind: "outcomes" } & z.infer<typeof outcomes>)
  | ({ kind: "servers" } & z.infer<typeof servers>)
  | ({ kind: "results" } & z.infer<typeof results>)
  | ({ kind: "sticky" } & z.infer<typeof sticky>)
  | ({ kind: "held" } & z.infer<typeof held>)
  | ({ kind: "table" } & z.infer<typeof table>)
  | ({ kind: "ftp" } & z.infer<typeof ftpCheck>)
  | ({ kind: "payload" } & z.infer<typeof payload>);
export type TableEntrySpec = z.infer<typeof entry>;
export type Bounds = {
  exactly?: Record<string, number>;
  atLeast?: Record<string, number>;
  atMost?: Record<string, number>;
};

// ---- the file --------------------------------------------------------------------------

const program = z.strictObject({
  id,
  host: z.string().min(1),
  kind: z.enum(["http", "udp"]),
  /** Name the program answers with (pages, echoes), e.g. "rs1b". */
  name: z.string().regex(/^[a-z][a-z0-9-]{0,15}$/, { message: "a name like rs1b" }),
  listen: z.string().regex(/^\d+\.\d+\.\d+\.\d+:\d+$/, { message: "must be address:port" }),
  /** http only: the server closes a keep-alive connection idle this long (0: never; default 5000). */
  keepAliveMs: ms(600_000).optional(),
});

const fileSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,47}$/).optional(),
  description: z.string().default(""),
  lab: z.string().regex(LAB_NAME_PATTERN, {
    message: "a lab name is 1-16 lower-case letters and digits, starting with a letter",
  }).default(DEFAULT_SCENARIO_LAB),
  topology: z.literal("default", { message: "only the 'default' topology exists so far" })
    .default("default"),
  /** The whole run (traffic and waits, not lab up/down) must end within this. */
  timeoutSeconds: z.number().int().min(1).max(600).default(120),
  /**
   * tcpdump on every segment; `{ complete: true }` also requires every capture to be
   * complete: a packet tcpdump lost (or counts it did not give) fails the run instead of
   * excusing the twins it would have shown.
   */
  capture: z.union([
    z.boolean(),
    z.strictObject({ complete: z.boolean().default(false) }),
  ]).default(true),
  /** Extra addresses on the client's interface, to act as several sources. */
  clientAddresses: z.array(ipv4).max(64).default([]),
  programs: z.array(program).max(16).default([]),
  services: z.unknown().optional(),
  steps: z.array(z.unknown()).min(1, { message: "a scenario needs at least one step" }).max(200),
  assertions: z.array(z.unknown()).min(1, { message: "a scenario needs at least one assertion" })
    .max(200),
});

export type ProgramSpec = z.infer<typeof program>;

export interface Scenario {
  /** The file it came from (absolute). */
  file: string;
  name: string;
  description: string;
  lab: string;
  topology: "default";
  vip: string;
  timeoutSeconds: number;
  capture: boolean;
  /** Capture loss fails the run (capture: { complete: true }) instead of excusing twins. */
  captureComplete: boolean;
  clientAddresses: string[];
  programs: ProgramSpec[];
  /** The director's service table, validated as lab/default-services.yaml is. */
  services: DirectorConfig;
  /** The same table as YAML text, for the director's --config. */
  servicesYaml: string;
  steps: Step[];
  assertions: AssertionSpec[];
}

/** Thrown with every problem of a file, one sentence per line. */
export class ScenarioError extends Error {}

function issueText(issue: z.core.$ZodIssue): string {
  const where = issue.path.length ? `${issue.path.map(String).join(".")}: ` : "";
  return `${where}${issue.message}`;
}

/** Parses `{ kind: value }` with the schema of that kind; problems go to `problems`. */
function parseTagged<T>(
  raw: unknown,
  where: string,
  schemas: Record<string, z.ZodType>,
  problems: string[],
): { kind: string; value: T } | null {
  const kinds = Object.keys(schemas);
  if (!raw || typeof raw !== "object" || Array.isArray(raw) || Object.keys(raw).length !== 1) {
    problems.push(
      `${where} must be one of ${kinds.join(", ")} with its settings, like '- wait: 1000'`,
    );
    return null;
  }
  const [kind, value] = Object.entries(raw)[0];
  const schema = schemas[kind];
  if (!schema) {
    problems.push(`${where}: '${kind}' is not known; use one of ${kinds.join(", ")}`);
    return null;
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${where} (${kind}): ${issueText(issue)}`);
    }
    return null;
  }
  return { kind, value: parsed.data as T };
}

function splitArgs(args: string): string[] {
  return args.trim().split(/\s+/).filter(Boolean);
}

const STEP_SCHEMAS: Record<StepKind, z.ZodType> = {
  http: httpStep,
  udp: udpStep,
  probe: probeStep,
  hold: holdStep,
  ftp: ftpStep,
  release: id,
  ipvsadm: ipvsadmStep,
  stop: id,
  start: id,
  wait: count(120_000),
  table: tableStep,
};

function toStep(kind: StepKind, value: unknown): Step {
  switch (kind) {
    case "release":
    case "stop":
    case "start":
      return { kind, id: value as string };
    case "wait":
      return { kind, ms: value as number };
    case "table":
      return { kind, id: typeof value === "string" ? value : (value as { id: string }).id };
    case "ipvsadm":
      return typeof value === "string" ? { kind, args: splitArgs(value), expectCode: 0 } : {
        kind,
        args: splitArgs((value as { args: string }).args),
        expectCode: (value as { expectCode: number }).expectCode,
      };
    default:
      return { kind, ...(value as object) } as Step;
  }
}

/** Name of a step for messages: "steps[3] (hold 'h1')". */
export function stepLabel(step: Step, index: number): string {
  const stepId = "id" in step && step.id ? ` '${step.id}'` : "";
  return `steps[${index}] (${step.kind}${stepId})`;
}

/**
 * An ftp step needs a TCP service at its VIP:port whose real server is a host's FTP server,
 * and stays within the bounds on transfers and bytes.
 */
function ftpCheckStep(
  s: Omit<Scenario, "file">,
  step: FtpStep,
  where: string,
  problems: string[],
): void {
  const vip = step.vip ?? s.vip;
  const service = s.services.services.find((v) =>
    v.protocol === "tcp" && v.address === vip && v.port === step.vport
  );
  const ftpServers = defaultTopology().hosts.flatMap((h) => h.ftp ? [h.ftp.listen] : []);
  if (!service) {
    problems.push(`${where}: there is no tcp service ${vip}:${step.vport} in the service table`);
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

/** Checks names across the file: ids, references, addresses. */
function crossCheck(s: Omit<Scenario, "file">, problems: string[]): void {
  const topology = defaultTopology();
  const hosts = new Set(topology.hosts.map((h) => h.name));
  const programIds = new Set<string>();
  for (const [i, p] of s.programs.entries()) {
    const where = `programs[${i}] ('${p.id}')`;
    if (programIds.has(p.id)) problems.push(`${where}: the id is used twice`);
    programIds.add(p.id);
    if (!hosts.has(p.host)) {
      problems.push(`${where}: no host '${p.host}'; hosts are ${[...hosts].join(", ")}`);
    }
    const addr = parseIPv4(p.listen.split(":")[0]);
    const host = topology.hosts.find((h) => h.name === p.host);
    const own = host?.interfaces.map((f) => f.address.split("/")[0]) ?? [];
    if (p.keepAliveMs !== undefined && p.kind !== "http") {
      problems.push(`${where}: keepAliveMs is for http programs only`);
    }
    if (addr === null || !own.includes(p.listen.split(":")[0])) {
      problems.push(
        `${where}: ${p.listen} is not an address of host '${p.host}' (${own.join(", ")})`,
      );
    }
  }
  const client = topology.hosts.find((h) => h.role === "client")!;
  const clientNet = parseCidr(client.interfaces[0].address)!;
  for (const a of s.clientAddresses) {
    const addr = parseIPv4(a)!;
    const mask = clientNet.bits === 0 ? 0 : (~0 << (32 - clientNet.bits)) >>> 0;
    if (!isAllowedAddress(addr) || ((addr & mask) >>> 0) !== ((clientNet.addr & mask) >>> 0)) {
      problems.push(
        `clientAddresses: ${a} is not on the client's network ${client.interfaces[0].address}`,
      );
    }
  }
  const services = new Set(s.services.services.map((v) => `${v.protocol} ${v.address}:${v.port}`));
  const vips = new Set(s.services.services.map((v) => v.address));
  const stepKinds = new Map<string, StepKind>();
  const heldOpen = new Set<string>();
  const sources = new Set([client.interfaces[0].address.split("/")[0], ...s.clientAddresses]);
  s.steps.forEach((step, i) => {
    const where = stepLabel(step, i);
    const resultId = RESULT_STEPS.includes(step.kind) && "id" in step ? step.id : undefined;
    if (resultId) {
      if (stepKinds.has(resultId)) problems.push(`${where}: id '${resultId}' is used twice`);
      stepKinds.set(resultId, step.kind);
    }
    // UDP may go to a port without a service: that shows the refusal.
    if (step.kind === "http" || step.kind === "hold") {
      const proto = "tcp";
      const vip = step.vip ?? s.vip;
      if (!services.has(`${proto} ${vip}:${step.vport}`)) {
        problems.push(
          `${where}: there is no ${proto} service ${vip}:${step.vport} in the service table`,
        );
      }
    }
    if (step.kind === "ftp") ftpCheckStep(s, step, where, problems);
    if (step.kind === "probe" && step.vip && !vips.has(step.vip) && step.vip !== s.vip) {
      problems.push(`${where}: ${step.vip} is not a virtual address of the service table`);
    }
    const from = step.kind === "http"
      ? step.sources ?? []
      : step.kind === "hold" && step.source
      ? [step.source]
      : [];
    for (const a of from) {
      if (!sources.has(a)) {
        problems.push(`${where}: source ${a} is not the client's address nor in clientAddresses`);
      }
    }
    if (step.kind === "hold") heldOpen.add(step.id);
    if (step.kind === "release") {
      if (stepKinds.get(step.id) !== "hold") {
        problems.push(`${where}: no earlier hold step has id '${step.id}'`);
      } else if (!heldOpen.delete(step.id)) {
        problems.push(`${where}: hold '${step.id}' is released twice`);
      }
    }
    if ((step.kind === "stop" || step.kind === "start") && !programIds.has(step.id)) {
      problems.push(`${where}: no program has id '${step.id}' (see programs:)`);
    }
  });
  const flows = s.steps.reduce((n, st) => n + (st.kind === "udp" ? st.count : 0), 0);
  if (flows > 40_000) {
    problems.push(
      `steps: ${flows} UDP flows in all; at most 40000 (each needs its own source port)`,
    );
  }
  s.assertions.forEach((a, i) => {
    const where = `assertions[${i}] (${a.kind})`;
    const named = "steps" in a ? a.steps : "step" in a ? [a.step] : [];
    for (const stepId of named) {
      const kind = stepKinds.get(stepId);
      if (!kind) {
        problems.push(`${where}: no step has id '${stepId}'`);
        continue;
      }
      const wanted: Partial<Record<AssertionKind, StepKind[]>> = {
        distribution: ["http"],
        servers: ["http", "hold", "udp"],
        results: ["http", "udp", "probe", "ftp"],
        sticky: ["http"],
        held: ["hold"],
        table: ["table"],
        ftp: ["ftp"],
      };
      const ok = wanted[a.kind];
      if (ok && !ok.includes(kind)) {
        problems.push(
          `${where}: step '${stepId}' is a ${kind} step; this needs ${ok.join(" or ")}`,
        );
      }
    }
    if (a.kind === "table") {
      for (const e of [...a.present, ...a.absent]) {
        if (e.hold !== undefined && stepKinds.get(e.hold) !== "hold") {
          problems.push(`${where}: hold '${e.hold}' is not the id of a hold step`);
        }
      }
    }
    if (a.kind === "distribution") {
      const total = Object.values(a.weights).reduce((x, y) => x + y, 0);
      if (Object.keys(a.weights).length < 2 || total === 0) {
        problems.push(`${where}: weights must name at least two servers with a weight above 0`);
      }
      for (const k of Object.keys(a.weights)) {
        if (!/^\d+\.\d+\.\d+\.\d+:\d+$/.test(k)) {
          problems.push(`${where}: weights key '${k}' is not a real server address:port`);
        }
      }
      if (a.from.includes("capture") && !s.capture) {
        problems.push(`${where}: counts from the capture need 'capture: true'`);
      }
    }
    if (
      (a.kind === "rewrite" || a.kind === "one-connection-one-server" || a.kind === "outcomes" ||
        a.kind === "payload") &&
      !s.capture
    ) {
      problems.push(`${where}: this assertion reads the capture; set 'capture: true'`);
    }
    if (a.kind === "sticky" && a.expect && a.by === "connection") {
      problems.push(
        `${where}: expect names the server of each source or destination; not with by: connection`,
      );
    }
    if (a.kind === "payload" && a.present.length === 0 && a.absent.length === 0) {
      problems.push(`${where}: give the texts that must be present, absent, or both`);
    }
    if (a.kind === "outcomes" && !a.expect && !a.server) {
      problems.push(`${where}: give expect (accepted, refused, dropped), server, or both`);
    }
    if (
      (a.kind === "servers" || a.kind === "results" || a.kind === "held") &&
      !a.exactly && !a.atLeast && !a.atMost
    ) {
      problems.push(`${where}: give at least one of exactly, atLeast, atMost`);
    }
  });
}

/** Parses and validates scenario text; throws a ScenarioError listing every problem. */
export function parseScenario(text: string, file: string): Scenario {
  const shown = path.relative(process.cwd(), file) || file;
  const fail = (problems: string[]): never => {
    throw new ScenarioError(problems.map((p) => `${shown}: ${p}`).join("\n"));
  };
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (err) {
    fail([`not valid YAML: ${(err as Error).message.split("\n")[0]}`]);
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    fail(["a scenario file is a mapping with services, steps and assertions"]);
  }
  const top = fileSchema.safeParse(raw);
  if (!top.success) fail(top.error.issues.map(issueText));
  const f = top.data!;
  const problems: string[] = [];

  let services: DirectorConfig = parseDirectorConfig("{}", "services");
  let servicesYaml = "";
  if (f.services === undefined || f.services === null) {
    problems.push(
      "services: the service table is missing (the same format as lab/default-services.yaml)",
    );
  } else {
    servicesYaml = YAML.stringify(f.services);
    try {
      services = parseDirectorConfig(servicesYaml, "services");
    } catch (err) {
      problems.push(...(err as Error).message.split("\n"));
    }
  }

  const steps: Step[] = [];
  f.steps.forEach((rawStep, i) => {
    const r = parseTagged<unknown>(rawStep, `steps[${i}]`, STEP_SCHEMAS, problems);
    if (r) steps.push(toStep(r.kind as StepKind, r.value));
  });
  const assertions: AssertionSpec[] = [];
  f.assertions.forEach((rawA, i) => {
    const r = parseTagged<object | null>(rawA, `assertions[${i}]`, ASSERTION_SCHEMAS, problems);
    if (r) assertions.push({ kind: r.kind, ...(r.value ?? {}) } as AssertionSpec);
  });
  if (problems.length > 0) fail(problems);

  const scenario = {
    name: f.name ?? path.basename(file).replace(/\.ya?ml$/, ""),
    description: f.description,
    lab: f.lab,
    topology: f.topology,
    vip: defaultTopology().vip,
    timeoutSeconds: f.timeoutSeconds,
    capture: f.capture !== false,
    captureComplete: typeof f.capture === "object" && f.capture.complete,
    clientAddresses: f.clientAddresses,
    programs: f.programs,
    services,
    servicesYaml,
    steps,
    assertions,
  };
  crossCheck(scenario, problems);
  if (problems.length > 0) fail(problems);
  return { file: path.resolve(file), ...scenario };
}

/** Reads and validates a scenario file. */
export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ScenarioError(
      e.code === "ENOENT"
        ? `${file}: no such scenario file`
        : `${file}: cannot be read (${e.message})`,
    );
  }
  return parseScenario(text, file);
}
