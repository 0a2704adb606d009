// Carries out a scenario's steps on a lab backend: traffic from the client host (the repo's
// client programs), ipvsadm in the director host, real-server programs started and stopped,
// waits, and snapshots of the connection table. Each step leaves a record; steps with an id
// leave their result for the assertions.
import fs from "node:fs";
import path from "node:path";
import type { BackgroundProcess, LabBackend } from "../backend.ts";
import type { ConnSummary } from "../../clients/http-conns.ts";
import type { UdpSummary } from "../../clients/udp-client.ts";
import type { ProbeSummary } from "../../clients/tcp-probe.ts";
import type { HoldReport } from "../../clients/tcp-hold.ts";
import { parseConnectionTable, type TableEntry } from "./conn-table.ts";
import { describeFtp, type FtpSummary, runFtpStep } from "./ftp-step.ts";
import type { ProgramSpec, Scenario, Step, StepKind } from "./schema.ts";
import { stepLabel } from "./schema.ts";
import { READY_LINES } from "../../director/ready-lines.ts";

export interface StepRecord {
  index: number;
  label: string;
  kind: StepKind;
  /** Wall-clock times (ms since the epoch), to match the step with captured packets. */
  startedAt: number;
  endedAt: number;
  ok: boolean;
  error: string | null;
  /** One line saying what happened, for the human report. */
  summary: string;
}

/** A step's result, by kind. */
export type StepOutput =
  | { kind: "http"; data: ConnSummary }
  | { kind: "udp"; data: UdpSummary }
  | { kind: "probe"; data: ProbeSummary }
  | { kind: "hold"; data: HoldReport; final: boolean }
  | { kind: "ftp"; data: FtpSummary }
  | { kind: "table"; data: TableEntry[] };

export interface StepWindow {
  startedAt: number;
  endedAt: number;
  vip: string;
  vport: number;
  protocol: "tcp" | "udp";
}

interface RunningProgram {
  spec: ProgramSpec;
  process: BackgroundProcess | null;
}

const READY_TEXT = { http: READY_LINES.httpServer, udp: READY_LINES.udpEchoServer } as const;
const SCRIPT = { http: "realservers/http-server.ts", udp: "realservers/udp-echo-server.ts" };

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function counts(record: Record<string, number>): string {
  const parts = Object.entries(record).sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k} ${v}`);
  return parts.length ? parts.join(", ") : "none";
}

/** Reads a log until a line starting with `prefix` appears; returns the rest of that line. */
async function waitForLine(
  file: string,
  prefix: string,
  timeoutMs: number,
  exited: () => boolean,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let text = "";
    try {
      text = fs.readFileSync(file, "utf8");
    } catch {
      // Not there yet.
    }
    const line = text.split("\n").find((l) => l.startsWith(prefix));
    if (line !== undefined) return line.slice(prefix.length);
    if (exited() || Date.now() > deadline) {
      const tail = text.trim().split("\n").slice(-5).join("\n") || "(empty log)";
      throw new Error(
        `${
          exited() ? "it ended" : `nothing within ${timeoutMs} ms`
        } before printing '${prefix.trim()}'; ` +
          `its log ${file} ends with:\n${tail}`,
      );
    }
    await sleep(100);
  }
}

export class StepRunner {
  readonly records: StepRecord[] = [];
  readonly outputs = new Map<string, StepOutput>();
  readonly windows = new Map<string, StepWindow>();
  private readonly holds = new Map<string, { process: BackgroundProcess; log: string }>();
  private readonly programs = new Map<string, RunningProgram>();
  private readonly logDir: string;
  private udpPortsUsed = 0;

  constructor(
    private readonly backend: LabBackend,
    private readonly scenario: Scenario,
    artifacts: string,
    private readonly deadline: number,
    private readonly log: (line: string) => void = () => {},
  ) {
    this.logDir = path.join(artifacts, "logs");
    fs.mkdirSync(this.logDir, { recursive: true });
  }

  /** Time left before the scenario's deadline, as a bound for one command. */
  private budget(wanted: number): number {
    const left = this.deadline - Date.now();
    if (left <= 0) {
      throw new Error(
        `the scenario ran past its timeoutSeconds (${this.scenario.timeoutSeconds} s)`,
      );
    }
    return Math.max(1000, Math.min(wanted, left));
  }

  /** Runs one of the repo's client programs in the client host; parses its JSON output. */
  private async client<T>(script: string, args: string[], wantedMs: number): Promise<T> {
    const argv = this.backend.program(script, args);
    const r = await this.backend.exec("client", argv, { timeoutMs: this.budget(wantedMs) });
    const last = r.stdout.trim().split("\n").pop() ?? "";
    if (r.code !== 0 || !last.startsWith("{")) {
      throw new Error(
        `${path.basename(script)} exited with ${r.code}: ${
          (r.stderr || r.stdout).trim().slice(0, 400)
        }`,
      );
    }
    return JSON.parse(last) as T;
  }

  /** Adds the extra client addresses and starts the scenario's programs. */
  async setUp(): Promise<void> {
    for (const addr of this.scenario.clientAddresses) {
      const r = await this.backend.exec("client", [
        "ip",
        "addr",
        "add",
        `${addr}/24`,
        "dev",
        "eth0",
      ]);
      if (r.code !== 0) throw new Error(`could not add ${addr} to the client: ${r.stderr.trim()}`);
    }
    for (const spec of this.scenario.programs) {
      const running: RunningProgram = { spec, process: null };
      this.programs.set(spec.id, running);
      await this.startProgram(running);
    }
  }

  private async startProgram(p: RunningProgram): Promise<void> {
    const { spec } = p;
    const log = path.join(this.logDir, `program-${spec.id}.log`);
    const argv = this.backend.program(SCRIPT[spec.kind], [
      "--name",
      spec.name,
      "--listen",
      spec.listen,
    ]);
    const proc = await this.backend.spawn(spec.host, argv, log);
    let ended = false;
    void proc.exited.then(() => (ended = true));
    try {
      await waitForLine(log, READY_TEXT[spec.kind], 15_000, () => ended);
    } catch (err) {
      await proc.stop();
      throw new Error(
        `program '${spec.id}' (${spec.kind} ${spec.listen}) did not start: ${
          (err as Error).message
        }`,
      );
    }
    p.process = proc;
  }

  /** Runs every step in order; stops at the first that cannot be carried out. */
  async runAll(): Promise<boolean> {
    for (const [index, step] of this.scenario.steps.entries()) {
      const record: StepRecord = {
        index,
        label: stepLabel(step, index),
        kind: step.kind,
        startedAt: Date.now(),
        endedAt: 0,
        ok: true,
        error: null,
        summary: "",
      };
      this.records.push(record);
      try {
        record.summary = await this.run(step);
      } catch (err) {
        record.ok = false;
        record.error = `${record.label}: ${(err as Error).message}`;
        record.summary = `could not be carried out: ${(err as Error).message}`;
      }
      record.endedAt = Date.now();
      this.log(
        `  ${record.ok ? "ok  " : "FAIL"} ${record.label}: ${record.summary.split("\n")[0]}`,
      );
      if (!record.ok) return false;
    }
    return true;
  }

  private note(id: string | undefined, output: StepOutput, window?: Omit<StepWindow, "endedAt">) {
    if (!id) return;
    this.outputs.set(id, output);
    if (window) this.windows.set(id, { ...window, endedAt: Date.now() });
  }

  private async run(step: Step): Promise<string> {
    const vip = "vip" in step && step.vip ? step.vip : this.scenario.vip;
    const startedAt = Date.now();
    switch (step.kind) {
      case "http": {
        const args = [
          "--url",
          `http://${vip}:${step.vport}/`,
          "--connections",
          String(step.connections),
          "--requests",
          String(step.requests),
          "--concurrency",
          String(step.concurrency),
          "--timeout-ms",
          String(step.timeoutMs),
          ...(step.sources ?? []).flatMap((s) => ["--source", s]),
        ];
        const rounds = Math.ceil(step.connections / step.concurrency) * step.requests;
        const data = await this.client<ConnSummary>(
          "clients/http-conns.ts",
          args,
          rounds * step.timeoutMs + 30_000,
        );
        this.note(step.id, { kind: "http", data }, {
          startedAt,
          vip,
          vport: step.vport,
          protocol: "tcp",
        });
        const failed = data.failed
          ? `, ${data.failed} failed (${
            counts(Object.fromEntries(
              Object.entries(data.outcomes).filter(([k, v]) => k !== "ok" && v > 0),
            ))
          })`
          : "";
        return `${data.connections} connections x ${step.requests} requests to ${vip}:${step.vport}: ` +
          `${data.answered} answered (${counts(data.byServerAddress)})${failed}`;
      }
      case "udp": {
        // Each udp step gets its own source ports, so flows of two steps never share a tuple.
        const basePort = 20000 + this.udpPortsUsed;
        this.udpPortsUsed += step.count;
        const data = await this.client<UdpSummary>("clients/udp-client.ts", [
          "--base-port",
          String(basePort),
          "--target",
          `${vip}:${step.vport}`,
          "--count",
          String(step.count),
          "--size",
          String(step.size),
          "--timeout-ms",
          String(step.timeoutMs),
        ], step.count * step.timeoutMs + 30_000);
        this.note(step.id, { kind: "udp", data }, {
          startedAt,
          vip,
          vport: step.vport,
          protocol: "udp",
        });
        return `${data.sent} datagrams to ${vip}:${step.vport}: ${data.echoed} echoed (${
          counts(data.byServerAddress)
        }), ` +
          `${data.refused} refused, ${data.timedOut} unanswered, ${data.corrupted} corrupted`;
      }
      case "probe": {
        const data = await this.client<ProbeSummary>("clients/tcp-probe.ts", [
          "--target",
          `${vip}:${step.vport}`,
          "--count",
          String(step.count),
          "--timeout-ms",
          String(step.timeoutMs),
          "--banner-ms",
          String(step.bannerMs),
        ], step.count * (step.timeoutMs + step.bannerMs) + 30_000);
        this.note(step.id, { kind: "probe", data }, {
          startedAt,
          vip,
          vport: step.vport,
          protocol: "tcp",
        });
        const banner = data.banners.length ? `; first line '${data.banners[0]}'` : "";
        return `${data.attempts} connection attempts to ${vip}:${step.vport}: ${
          counts(Object.fromEntries(Object.entries(data.outcomes).filter(([, v]) => v > 0)))
        }${banner}`;
      }
      case "hold": {
        const log = path.join(this.logDir, `hold-${step.id}.log`);
        const argv = this.backend.program("clients/tcp-hold.ts", [
          "--target",
          `${vip}:${step.vport}`,
          "--count",
          String(step.count),
          "--hold-ms",
          String(step.holdMs),
          "--interval-ms",
          String(step.intervalMs),
          "--timeout-ms",
          String(step.timeoutMs),
          ...(step.source ? ["--source", step.source] : []),
        ]);
        const proc = await this.backend.spawn("client", argv, log);
        let ended = false;
        void proc.exited.then(() => (ended = true));
        this.holds.set(step.id, { process: proc, log });
        const ready = await waitForLine(
          log,
          `${READY_LINES.tcpHold} `,
          this.budget(step.count * step.timeoutMs * 2 + 15_000),
          () => ended,
        );
        const data = JSON.parse(ready) as HoldReport;
        this.note(step.id, { kind: "hold", data, final: false }, {
          startedAt,
          vip,
          vport: step.vport,
          protocol: "tcp",
        });
        const byServer: Record<string, number> = {};
        for (const c of data.connections) {
          const k = c.server ?? `not opened`;
          byServer[k] = (byServer[k] ?? 0) + 1;
        }
        return `holding ${data.connections.length} connections to ${vip}:${step.vport}: ${
          counts(byServer)
        }`;
      }
      case "ftp": {
        const n = this.records.length;
        const data = await runFtpStep(this.backend, step, vip, {
          budget: (ms) => this.budget(ms),
          logFile: path.join(this.logDir, `ftp-${step.id ?? `step${n - 1}`}.log`),
        });
        this.note(step.id, { kind: "ftp", data }, {
          startedAt,
          vip,
          vport: step.vport,
          protocol: "tcp",
        });
        return describeFtp(data);
      }
      case "release": {
        const report = await this.release(step.id);
        const states: Record<string, number> = {};
        for (const c of report.connections) {
          states[`${c.server ?? "?"} ${c.state}`] = (states[`${c.server ?? "?"} ${c.state}`] ?? 0) +
            1;
        }
        return `released '${step.id}': ${counts(states)}`;
      }
      case "ipvsadm": {
        const r = await this.backend.exec("director", ["ipvsadm", ...step.args], {
          timeoutMs: this.budget(30_000),
        });
        const out = (r.stdout + r.stderr).trim();
        if (r.code !== step.expectCode) {
          throw new Error(
            `'ipvsadm ${step.args.join(" ")}' exited with ${r.code}, expected ${step.expectCode}: ${
              out || "(no output)"
            }`,
          );
        }
        return `ipvsadm ${step.args.join(" ")}${out ? `: ${out.split("\n")[0]}` : ""}`;
      }
      case "stop": {
        const p = this.programs.get(step.id)!;
        if (!p.process) throw new Error(`program '${step.id}' is not running`);
        await p.process.stop();
        p.process = null;
        return `stopped program '${step.id}' (${p.spec.kind} ${p.spec.listen} on ${p.spec.host})`;
      }
      case "start": {
        const p = this.programs.get(step.id)!;
        if (p.process) throw new Error(`program '${step.id}' is already running`);
        await this.startProgram(p);
        return `started program '${step.id}' (${p.spec.kind} ${p.spec.listen} on ${p.spec.host})`;
      }
      case "wait":
        this.budget(step.ms);
        if (Date.now() + step.ms > this.deadline) {
          throw new Error(`waiting ${step.ms} ms would run past the scenario's timeoutSeconds`);
        }
        await sleep(step.ms);
        return `waited ${step.ms} ms`;
      case "table": {
        const r = await this.backend.exec("director", ["ipvsadm", "-L", "-n", "-c"], {
          timeoutMs: this.budget(30_000),
        });
        if (r.code !== 0) {
          throw new Error(`'ipvsadm -L -n -c' exited with ${r.code}: ${r.stderr.trim()}`);
        }
        const entries = parseConnectionTable(r.stdout);
        fs.writeFileSync(path.join(this.logDir, `table-${step.id}.txt`), r.stdout);
        this.note(step.id, { kind: "table", data: entries });
        const byState: Record<string, number> = {};
        for (const e of entries) {
          byState[`${e.protocol.toUpperCase()} ${e.state}`] =
            (byState[`${e.protocol.toUpperCase()} ${e.state}`] ?? 0) + 1;
        }
        return `connection table: ${entries.length} entries (${counts(byState)})`;
      }
    }
  }

  /** Stops a holder and reads its final report. */
  private async release(id: string): Promise<HoldReport> {
    const hold = this.holds.get(id);
    if (!hold) throw new Error(`hold '${id}' is not running`);
    this.holds.delete(id);
    await hold.process.stop();
    const line = await waitForLine(hold.log, "tcp-hold result ", 1000, () => true);
    const data = JSON.parse(line) as HoldReport;
    this.outputs.set(id, { kind: "hold", data, final: true });
    return data;
  }

  /** Releases holds still open and stops the scenario's programs; never throws. */
  async cleanUp(): Promise<string[]> {
    const problems: string[] = [];
    for (const id of [...this.holds.keys()]) {
      try {
        await this.release(id);
      } catch (err) {
        problems.push(`releasing hold '${id}': ${(err as Error).message}`);
      }
    }
    for (const p of this.programs.values()) {
      await p.process?.stop().catch((err: Error) => problems.push(err.message));
      p.process = null;
    }
    return problems;
  }
}
