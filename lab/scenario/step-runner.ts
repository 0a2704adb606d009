// Carries out a scenario's steps on a lab backend, each by its kind's run function (steps/):
// traffic from the client host (the repo's client programs), ipvsadm in the director host,
// real-server programs started and stopped, waits, and snapshots of the connection table.
// Each step leaves a record; steps with an id leave their result for the assertions.
import fs from "node:fs";
import path from "node:path";
import type { BackgroundProcess, LabBackend } from "../backend.ts";
import type { HoldReport } from "../../clients/tcp-hold.ts";
import type { Scenario } from "./schema.ts";
import { stepLabel } from "./schema.ts";
import { type Step, type StepKind, stepKind, type StepOutput } from "./steps/index.ts";
import { waitForLine } from "./steps/common.ts";
import type { RunningProgram, StepContext, StepWindow } from "./steps/types.ts";
import { READY_LINES } from "../../director/ready-lines.ts";

export type { StepOutput } from "./steps/index.ts";
export type { StepWindow } from "./steps/types.ts";

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

const READY_TEXT = { http: READY_LINES.httpServer, udp: READY_LINES.udpEchoServer } as const;
const SCRIPT = { http: "realservers/http-server.ts", udp: "realservers/udp-echo-server.ts" };

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
      ...(spec.keepAliveMs !== undefined ? ["--keep-alive-ms", String(spec.keepAliveMs)] : []),
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
        record.summary = await stepKind(step.kind).run(step, this.context(step, index));
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

  /** What one step's run function is given. */
  private context(step: Step, index: number): StepContext {
    const vip = "vip" in step && step.vip ? step.vip : this.scenario.vip;
    const startedAt = Date.now();
    return {
      backend: this.backend,
      scenario: this.scenario,
      index,
      vip,
      logDir: this.logDir,
      deadline: this.deadline,
      budget: (ms) => this.budget(ms),
      client: (script, args, ms) => this.client(script, args, ms),
      note: (id, output, target) => {
        if (!id) return;
        this.outputs.set(id, output);
        if (target) this.windows.set(id, { startedAt, vip, ...target, endedAt: Date.now() });
      },
      holds: this.holds,
      release: (id) => this.release(id),
      programs: this.programs,
      startProgram: (p) => this.startProgram(p),
      takeUdpPorts: (count) => {
        const base = 20000 + this.udpPortsUsed;
        this.udpPortsUsed += count;
        return base;
      },
    };
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
