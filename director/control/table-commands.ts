// ipvsadm's table-changing commands applied to the engine, all or nothing: a batch (one
// command, or a whole `ipvsadm -R`) is first played on a copy of the table's structure, and
// only if every command passes is it applied for real. A refusal carries ipvsadm's words.
import type { DirectorEngine } from "../engine/engine.ts";
import {
  type IpvsadmCommand,
  IpvsadmUsageError,
  serverError,
  type ServiceRef,
} from "../ipvsadm/command.ts";
import { ServiceTable, TableError } from "../service/service-table.ts";
import type { Protocol } from "../service/types.ts";
import { applyTimeoutSet } from "../protocols/timeouts.ts";
import { isSchedulerName } from "../schedulers/index.ts";
import { newStats } from "../service/types.ts";

export type TableCommand = Extract<
  IpvsadmCommand,
  {
    kind:
      | "add-service"
      | "edit-service"
      | "delete-service"
      | "clear"
      | "zero"
      | "add-server"
      | "edit-server"
      | "delete-server"
      | "set-timeouts";
  }
>;

function protocolOf(ref: ServiceRef): Protocol {
  if (ref.protocol === "fwmark") {
    throw new IpvsadmUsageError(
      "lvslab: firewall-mark services (-f) are not supported: the director has no netfilter marks; use -t or -u",
      2,
    );
  }
  return ref.protocol;
}

/**
 * Applies one command to a service table (the real one, a copy for a dry run, or the
 * scenario simulator's).
 */
export function applyToTable(table: ServiceTable, cmd: TableCommand): void {
  switch (cmd.kind) {
    case "add-service":
    case "edit-service": {
      const protocol = protocolOf(cmd.service);
      if (!isSchedulerName(cmd.scheduler)) throw serverError(cmd.kind, "ENOENT");
      const spec = {
        protocol,
        addr: cmd.service.addr,
        port: cmd.service.port,
        schedulerName: cmd.scheduler,
        schedulerFlags: cmd.schedFlags,
        persistTimeout: cmd.persistent,
        persistNetmask: cmd.netmask,
      };
      if (cmd.kind === "add-service") table.addService(spec);
      else table.editService(spec);
      return;
    }
    case "delete-service":
      table.deleteService(protocolOf(cmd.service), cmd.service.addr, cmd.service.port);
      return;
    case "clear":
      table.clear();
      return;
    case "add-server":
    case "edit-server":
    case "delete-server": {
      const protocol = protocolOf(cmd.service);
      const { addr, port } = cmd.service;
      if (cmd.kind === "delete-server") {
        table.deleteDestination(protocol, addr, port, cmd.server.addr, cmd.server.port);
        return;
      }
      const spec = {
        addr: cmd.server.addr,
        port: cmd.server.port,
        weight: cmd.weight,
        method: cmd.method,
        ...(cmd.tunnel ? { tunnel: cmd.tunnel } : {}),
        upperThreshold: cmd.upper,
        lowerThreshold: cmd.lower,
      };
      if (cmd.kind === "add-server") table.addDestination(protocol, addr, port, spec);
      else table.editDestination(protocol, addr, port, spec);
      return;
    }
    case "zero":
      if (cmd.service) {
        const entry = table.find(
          protocolOf(cmd.service),
          cmd.service.addr,
          cmd.service.port,
        );
        if (!entry) throw serverError("zero", "ESRCH");
      }
      return;
    case "set-timeouts":
      return;
  }
}

/** A copy of the table's services and real servers, without counters or connections. */
function structuralCopy(table: ServiceTable): ServiceTable {
  const copy = new ServiceTable();
  for (const { service } of table.entries) {
    copy.addService({ ...service });
    for (const d of [...service.destinations].reverse()) {
      copy.addDestination(service.protocol, service.addr, service.port, { ...d });
    }
  }
  return copy;
}

function asIpvsadmError(cmd: TableCommand, err: unknown): Error {
  if (err instanceof TableError) return serverError(cmd.kind, err.code);
  return err as Error;
}

/**
 * Applies a batch of commands, all or nothing. Throws IpvsadmUsageError (with ipvsadm's
 * message and exit code) and leaves the engine untouched when any command is refused.
 */
export function applyTableCommands(engine: DirectorEngine, commands: TableCommand[]): void {
  const dryRun = structuralCopy(engine.services);
  for (const cmd of commands) {
    try {
      applyToTable(dryRun, cmd);
      if (cmd.kind === "set-timeouts") applyTimeoutSet({ ...engine.timeouts }, cmd);
    } catch (err) {
      throw asIpvsadmError(cmd, err);
    }
  }
  for (const cmd of commands) {
    if (cmd.kind === "set-timeouts") {
      Object.assign(engine.timeouts, applyTimeoutSet(engine.timeouts, cmd));
      engine.refreshTimeouts();
    } else if (cmd.kind === "zero") zeroCounters(engine, cmd.service);
    else applyToTable(engine.services, cmd);
  }
  engine.expireEntriesOfRemovedServers();
}

function zeroCounters(engine: DirectorEngine, ref?: ServiceRef): void {
  for (const { service } of engine.services.entries) {
    if (
      ref &&
      (service.addr !== ref.addr || service.port !== ref.port || service.protocol !== ref.protocol)
    ) {
      continue;
    }
    service.stats = newStats();
    service.estimator.reset(service.stats);
    for (const dest of service.destinations) {
      dest.stats = newStats();
      dest.estimator.reset(dest.stats);
    }
  }
  if (!ref) {
    Object.assign(engine.totals, newStats());
    engine.totalsEstimator.reset(engine.totals);
  }
}
