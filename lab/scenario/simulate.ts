// Replays a scenario's steps without a lab: the director's own service table and schedulers
// (director/service, director/schedulers) choose the real server of every connection, and
// each step leaves the StepOutput shape its real counterpart leaves, so the file's own
// client-side assertions (checks.ts) judge the replay as they judge a run. The scheduler
// scenarios' unit tests use it to show that each scheduler check passes with the scenario's
// scheduler and fails with the neighbours named in scheduler-neighbours.ts.
//
// The model, and where it is simpler than a run:
// - A connection counts as active (ESTABLISHED) from when it is scheduled until it closes,
//   then as inactive for the rest of the replay: no entry expires (the scheduler scenarios
//   end well within TIME_WAIT's 120 s).
// - http: the connections in index order, the source of each as clients/http-conns.ts picks
//   it (the `sources` in turn), at most `concurrency` open at once (the oldest closes
//   first); a real run interleaves concurrent connections by timing, the replay does not.
// - hold: the connections one after another, each active until the hold is released (or the
//   replay ends); all of them report `open`.
// - ipvsadm: parsed and applied to the table as the director applies it; an exit code other
//   than the step's expectCode ends the replay, as it ends a run.
// - A connection to a real server address:port no lab program listens on is refused, as is
//   one the scheduler finds no server for.
// - wait only moves the replay's clock; udp, probe, ftp, stop, start and table steps are not
//   modelled (the replay throws a SimulationError naming the step).
import { type ConnOutcome, type ConnRecord, emptyConnSummary } from "../../clients/http-conns.ts";
import type { HeldConnection, HoldReport } from "../../clients/tcp-hold.ts";
import { configToCommands } from "../../director/config/config-commands.ts";
import type { DirectorConfig } from "../../director/config/service-config.ts";
import { applyToTable, type TableCommand } from "../../director/control/table-commands.ts";
import { IpvsadmUsageError } from "../../director/ipvsadm/command.ts";
import { parseIpvsadmArgs } from "../../director/ipvsadm/parse-args.ts";
import { BUILTIN_SERVICES } from "../../director/ipvsadm/service-names.ts";
import { formatIPv4, parseIPv4 } from "../../director/net/ipv4-address.ts";
import { createScheduler, type SchedulerOptions } from "../../director/schedulers/index.ts";
import { type ServiceEntry, ServiceTable } from "../../director/service/service-table.ts";
import {
  type Destination,
  markOverloadAfterBind,
  type Scheduler,
} from "../../director/service/types.ts";
import { defaultTopology } from "../topology.ts";
import type { CheckResult } from "./checks.ts";
import { evaluateClientAssertion } from "./assertions/index.ts";
import type { AssertionSpec, Scenario, Step } from "./schema.ts";
import { stepLabel } from "./schema.ts";
import type { StepOutput, StepWindow } from "./step-runner.ts";

/** A step the replay cannot model, or one that would fail a run (ipvsadm refused). */
export class SimulationError extends Error {}

export interface SimulateOptions {
  /** Uniform [0, 1) source for twos (default Math.random); give a seeded one for repeatability. */
  random?: () => number;
}

export interface Simulation {
  outputs: Map<string, StepOutput>;
  windows: Map<string, StepWindow>;
  /** The client's own address (sources when a step names none). */
  clientAddress: string;
}

/** "tcp 203.0.113.5:83": how the replay and its callers name a service. */
export function serviceKey(protocol: string, address: string, port: number): string {
  return `${protocol} ${address}:${port}`;
}

/** The scenario with one service's scheduler replaced (a neighbour swapped in). */
export function withScheduler(scenario: Scenario, key: string, scheduler: string): Scenario {
  let found = false;
  const services: DirectorConfig = {
    ...scenario.services,
    services: scenario.services.services.map((v) => {
      if (serviceKey(v.protocol, v.address, v.port) !== key) return v;
      found = true;
      return { ...v, scheduler };
    }),
  };
  if (!found) throw new SimulationError(`${scenario.name}: there is no service ${key}`);
  return { ...scenario, services };
}

/** The services (serviceKey) whose traffic an assertion judges, from the steps it names. */
export function assertionServices(scenario: Scenario, spec: AssertionSpec): string[] {
  const named = "steps" in spec ? spec.steps : "step" in spec ? [spec.step] : [];
  const keys = new Set<string>();
  for (const step of scenario.steps) {
    if (!("id" in step) || !step.id || !named.includes(step.id)) continue;
    if (step.kind === "http" || step.kind === "hold") {
      keys.add(serviceKey("tcp", step.vip ?? scenario.vip, step.vport));
    }
  }
  return [...keys];
}

/** "address:port" → the name the lab's HTTP server there answers with. */
function httpServerNames(scenario: Scenario): Map<string, string> {
  const names = new Map<string, string>();
  for (const host of defaultTopology().hosts) {
    for (const listen of host.http?.listen ?? []) names.set(listen, host.http!.name);
  }
  for (const p of scenario.programs) if (p.kind === "http") names.set(p.listen, p.name);
  return names;
}

interface Conn {
  dest: Destination;
  open: boolean;
}

class Replay {
  readonly outputs = new Map<string, StepOutput>();
  readonly windows = new Map<string, StepWindow>();
  readonly clientAddress: string;
  private readonly table = new ServiceTable();
  private readonly names: Map<string, string>;
  private readonly ours = new WeakSet<Scheduler>();
  private readonly holds = new Map<string, { report: HoldReport; conns: Conn[] }>();
  private clock = 0;
  private nextPort = 32768;

  constructor(private readonly scenario: Scenario, private readonly options: SimulateOptions) {
    const client = defaultTopology().hosts.find((h) => h.role === "client")!;
    this.clientAddress = client.interfaces[0].address.split("/")[0];
    this.names = httpServerNames(scenario);
    for (const cmd of configToCommands(scenario.services)) applyToTable(this.table, cmd);
    this.adoptSchedulers();
  }

  /** Gives every service a scheduler made with the replay's options (twos' random source). */
  private adoptSchedulers(): void {
    const opts: SchedulerOptions = { random: this.options.random };
    for (const entry of this.table.entries) {
      if (this.ours.has(entry.scheduler)) continue;
      const svc = entry.service;
      entry.scheduler = createScheduler(svc.schedulerName, svc.schedulerFlags, opts);
      entry.scheduler.update?.(svc);
      this.ours.add(entry.scheduler);
    }
  }

  private service(vip: string, vport: number, where: string): ServiceEntry {
    const entry = this.table.find("tcp", parseIPv4(vip)!, vport);
    if (!entry) throw new SimulationError(`${where}: no tcp service ${vip}:${vport}`);
    return entry;
  }

  /** Schedules one new connection as the engine does; null when it is refused. */
  private connect(
    entry: ServiceEntry,
    source: string,
    port: number,
  ): { conn: Conn; key: string } | null {
    const svc = entry.service;
    const dest = entry.scheduler.schedule(svc, parseIPv4(source)!, port, svc.addr, svc.port);
    if (dest === null) return null;
    dest.activeConns++;
    dest.stats.conns++;
    markOverloadAfterBind(dest);
    const conn = { dest, open: true };
    const address = `${formatIPv4(dest.addr)}:${dest.port}`;
    const name = this.names.get(address);
    if (name === undefined) {
      // Nothing listens there: the real server's kernel resets the SYN.
      this.close(conn);
      return null;
    }
    return { conn, key: `${name} ${address}` };
  }

  /** The next client port (the kernel's ephemeral range, in turn). */
  private port(): number {
    const port = this.nextPort++;
    if (this.nextPort > 60999) this.nextPort = 32768;
    return port;
  }

  private close(conn: Conn): void {
    if (!conn.open) return;
    conn.open = false;
    conn.dest.activeConns--;
    conn.dest.inactiveConns++;
  }

  run(): void {
    for (const [index, step] of this.scenario.steps.entries()) {
      this.clock += 1;
      this.step(step, stepLabel(step, index));
    }
    for (const id of [...this.holds.keys()]) this.release(id);
  }

  private window(id: string | undefined, vip: string, vport: number, startedAt: number) {
    if (id) this.windows.set(id, { startedAt, endedAt: this.clock, vip, vport, protocol: "tcp" });
  }

  private step(step: Step, where: string): void {
    const startedAt = this.clock;
    switch (step.kind) {
      case "http": {
        const vip = step.vip ?? this.scenario.vip;
        const entry = this.service(vip, step.vport, where);
        const summary = emptyConnSummary(step.connections, step.requests);
        const open: Conn[] = [];
        for (let index = 1; index <= step.connections; index++) {
          while (open.length >= step.concurrency) this.close(open.shift()!);
          const source = step.sources?.length
            ? step.sources[(index - 1) % step.sources.length]
            : null;
          const port = this.port();
          const got = this.connect(entry, source ?? this.clientAddress, port);
          const outcome: ConnOutcome = got ? "ok" : "refused";
          const record: ConnRecord = {
            index,
            source,
            localPorts: [port],
            servers: got ? { [got.key]: step.requests } : {},
            answered: got ? step.requests : 0,
            outcome,
            error: got ? null : "connect ECONNREFUSED",
          };
          if (got) {
            open.push(got.conn);
            summary.answered += step.requests;
            summary.ok++;
            const name = got.key.split(" ")[0];
            summary.byServer[name] = (summary.byServer[name] ?? 0) + step.requests;
            summary.byServerAddress[got.key] = (summary.byServerAddress[got.key] ?? 0) +
              step.requests;
          } else summary.failed++;
          summary.outcomes[outcome]++;
          summary.records.push(record);
        }
        for (const c of open) this.close(c);
        if (step.id) this.outputs.set(step.id, { kind: "http", data: summary });
        this.window(step.id, vip, step.vport, startedAt);
        return;
      }
      case "hold": {
        const vip = step.vip ?? this.scenario.vip;
        const entry = this.service(vip, step.vport, where);
        const conns: Conn[] = [];
        const held: HeldConnection[] = [];
        for (let index = 1; index <= step.count; index++) {
          const port = this.port();
          const got = this.connect(entry, step.source ?? this.clientAddress, port);
          if (got) conns.push(got.conn);
          const [server, serverAddress] = got ? got.key.split(" ") : [null, null];
          held.push({
            index,
            localAddress: got ? step.source ?? this.clientAddress : null,
            localPort: got ? port : null,
            server,
            serverAddress,
            servers: server ? [server] : [],
            answered: got ? 1 : 0,
            state: got ? "open" : "not-opened",
            error: got ? null : "connect ECONNREFUSED",
          });
        }
        const report: HoldReport = { target: `${vip}:${step.vport}`, connections: held };
        this.holds.set(step.id, { report, conns });
        this.outputs.set(step.id, { kind: "hold", data: report, final: false });
        this.window(step.id, vip, step.vport, startedAt);
        return;
      }
      case "release":
        if (!this.holds.has(step.id)) {
          throw new SimulationError(`${where}: hold '${step.id}' is not running`);
        }
        this.release(step.id);
        return;
      case "ipvsadm":
        this.ipvsadm(step, where);
        return;
      case "wait":
        this.clock += step.ms;
        return;
      default:
        throw new SimulationError(`${where}: ${step.kind} steps are not modelled by the replay`);
    }
  }

  /** Applies an ipvsadm step to the table as the director does; it must exit as expected. */
  private ipvsadm(step: Extract<Step, { kind: "ipvsadm" }>, where: string): void {
    let code = 0;
    let message = "";
    try {
      const cmd = parseIpvsadmArgs(step.args, { services: BUILTIN_SERVICES });
      if (cmd.kind !== "list" && cmd.kind !== "help" && cmd.kind !== "version") {
        if (cmd.kind === "save" || cmd.kind === "restore") {
          throw new SimulationError(`${where}: ipvsadm ${cmd.kind} is not modelled`);
        }
        applyToTable(this.table, cmd as TableCommand);
        this.adoptSchedulers();
      }
    } catch (err) {
      if (err instanceof SimulationError) throw err;
      code = err instanceof IpvsadmUsageError ? err.exitCode : 2;
      message = (err as Error).message;
    }
    if (code !== step.expectCode) {
      throw new SimulationError(
        `${where}: 'ipvsadm ${
          step.args.join(" ")
        }' would exit with ${code}, expected ${step.expectCode}${message ? `: ${message}` : ""}`,
      );
    }
  }

  private release(id: string): void {
    const hold = this.holds.get(id)!;
    this.holds.delete(id);
    for (const c of hold.conns) this.close(c);
    this.outputs.set(id, { kind: "hold", data: hold.report, final: true });
  }
}

/** Replays the scenario's steps; throws SimulationError for a step it cannot carry out. */
export function simulateScenario(scenario: Scenario, options: SimulateOptions = {}): Simulation {
  const replay = new Replay(scenario, options);
  replay.run();
  return {
    outputs: replay.outputs,
    windows: replay.windows,
    clientAddress: replay.clientAddress,
  };
}

/** Each assertion the replay can judge (capture-based ones cannot), with its results. */
export function judgeSimulation(
  scenario: Scenario,
  sim: Simulation,
): { spec: AssertionSpec; results: CheckResult[] }[] {
  return scenario.assertions.map((spec) => ({
    spec,
    results: evaluateClientAssertion(spec, sim.outputs, sim.windows, sim.clientAddress),
  })).filter((j) => j.results.length > 0);
}
