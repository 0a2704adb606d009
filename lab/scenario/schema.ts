// Scenario files (scenarios/*.yaml): the lab, the service table, the traffic and run-time
// actions, and what must hold afterwards. The whole file is validated before a lab is built;
// every problem is one sentence naming the file, the step or assertion, and what is wrong.
// Each step kind and assertion kind brings its own schema and cross-checks (steps/,
// assertions/); this file parses the rest and checks what spans kinds (ids, references).
// The format is documented in scenarios/README.md.
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { z } from "zod";
import { type DirectorConfig, parseDirectorConfig } from "../../director/config/service-config.ts";
import { parseIPv4 } from "../../director/net/ipv4-address.ts";
import { isAllowedAddress, LAB_NAME_PATTERN, parseCidr } from "../topology.ts";
import { SCENARIO_TOPOLOGIES, scenarioTopology } from "./topology.ts";
import { id, ipv4, ms } from "./fields.ts";
import {
  RESULT_STEPS,
  type Step,
  STEP_SCHEMAS,
  STEP_TABLE,
  stepFromYaml,
  type StepKind,
  stepKind,
} from "./steps/index.ts";
import type { StepCheckContext } from "./steps/types.ts";
import {
  ASSERTION_SCHEMAS,
  assertionKind,
  type AssertionSpec,
  CAPTURE_ONLY_KINDS,
} from "./assertions/index.ts";

export type { Step, StepKind } from "./steps/index.ts";
export type { AssertionSpec } from "./assertions/index.ts";

export const DEFAULT_SCENARIO_LAB = "lvsscn";

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

export const fileSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,47}$/).optional(),
  description: z.string().default(""),
  lab: z.string().regex(LAB_NAME_PATTERN, {
    message: "a lab name is 1-16 lower-case letters and digits, starting with a letter",
  }).default(DEFAULT_SCENARIO_LAB),
  /** The lab's shape: "default" (the article's VS/NAT lab) or a name in lab/topologies/. */
  topology: z.enum(SCENARIO_TOPOLOGIES, {
    message: `the topology is one of ${SCENARIO_TOPOLOGIES.join(", ")} (lab/topologies/)`,
  }).default("default"),
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
  /** "default" or a name in lab/topologies/ (scenarioTopology gives the Topology). */
  topology: string;
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

/** Name of a step for messages: "steps[3] (hold 'h1')". */
export function stepLabel(step: Step, index: number): string {
  const stepId = "id" in step && step.id ? ` '${step.id}'` : "";
  return `steps[${index}] (${step.kind}${stepId})`;
}

/** The programs: unique ids, known hosts, their own addresses. */
function crossCheckPrograms(s: Omit<Scenario, "file">, problems: string[]): void {
  const topology = scenarioTopology(s);
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
}

/** The client's extra addresses are on its network; returns all its source addresses. */
function crossCheckClient(s: Omit<Scenario, "file">, problems: string[]): Set<string> {
  const client = scenarioTopology(s).hosts.find((h) => h.role === "client")!;
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
  return new Set([client.interfaces[0].address.split("/")[0], ...s.clientAddresses]);
}

/**
 * Each step in order: its id once if it leaves a result, then its kind's own checks; then
 * each kind's checks of all its steps. Returns the result steps' ids → kinds.
 */
function crossCheckSteps(
  s: Omit<Scenario, "file">,
  sources: Set<string>,
  problems: string[],
): Map<string, StepKind> {
  const stepKinds = new Map<string, StepKind>();
  const ctx: StepCheckContext = {
    scenario: s,
    programIds: new Set(s.programs.map((p) => p.id)),
    services: new Set(s.services.services.map((v) => `${v.protocol} ${v.address}:${v.port}`)),
    vips: new Set(s.services.services.map((v) => v.address)),
    sources,
    stepKinds,
    openHolds: new Set<string>(),
  };
  s.steps.forEach((step, i) => {
    const where = stepLabel(step, i);
    const resultId = RESULT_STEPS.includes(step.kind) && "id" in step ? step.id : undefined;
    if (resultId) {
      if (stepKinds.has(resultId)) problems.push(`${where}: id '${resultId}' is used twice`);
      stepKinds.set(resultId, step.kind);
    }
    stepKind(step.kind).check?.(step, ctx, where, problems);
  });
  for (const { kind } of STEP_TABLE) {
    stepKind(kind).checkAll?.(s.steps.filter((st) => st.kind === kind), problems);
  }
  return stepKinds;
}

/**
 * Each assertion: the steps it names exist and are of a kind it reads, the captures it
 * reads are taken, then its kind's own checks.
 */
function crossCheckAssertions(
  s: Omit<Scenario, "file">,
  stepKinds: Map<string, StepKind>,
  problems: string[],
): void {
  s.assertions.forEach((a, i) => {
    const where = `assertions[${i}] (${a.kind})`;
    const def = assertionKind(a.kind);
    const named = "steps" in a ? a.steps : "step" in a ? [a.step] : [];
    for (const stepId of named) {
      const kind = stepKinds.get(stepId);
      if (!kind) {
        problems.push(`${where}: no step has id '${stepId}'`);
        continue;
      }
      const ok = def.stepKinds;
      if (ok && !ok.includes(kind)) {
        problems.push(
          `${where}: step '${stepId}' is a ${kind} step; this needs ${ok.join(" or ")}`,
        );
      }
    }
    if (CAPTURE_ONLY_KINDS.includes(a.kind) && !s.capture) {
      problems.push(`${where}: this assertion reads the capture; set 'capture: true'`);
    }
    def.check?.(a, { scenario: s, stepKinds }, where, problems);
  });
}

/** Checks names across the file: ids, references, addresses. */
function crossCheck(s: Omit<Scenario, "file">, problems: string[]): void {
  crossCheckPrograms(s, problems);
  const sources = crossCheckClient(s, problems);
  const stepKinds = crossCheckSteps(s, sources, problems);
  crossCheckAssertions(s, stepKinds, problems);
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
    if (r) steps.push(stepFromYaml(r.kind as StepKind, r.value));
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
    vip: scenarioTopology(f).vip,
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
