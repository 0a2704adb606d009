// `ipvsadm` for the lvslab director: ipvsadm 1.31's syntax and output, speaking to the
// director of this network namespace over its control socket instead of to the kernel.
import fs from "node:fs";
import { callDirector } from "../control/socket.ts";
import type { IpvsadmResult } from "../control/apply.ts";
import type { EngineSnapshot } from "../control/snapshot.ts";
import type { TableCommand } from "../control/table-commands.ts";
import type { IpvsadmCommand } from "./command.ts";
import { IpvsadmUsageError } from "./command.ts";
import { parseIpvsadmArgs, parseRestoreInput } from "./parse-args.ts";
import {
  formatConnections,
  formatList,
  formatSave,
  formatService,
  formatTimeouts,
} from "./format.ts";
import type { ConnectionSnapshot, TimeoutsSnapshot } from "./snapshot-types.ts";
import { usageText, versionText } from "./usage.ts";
import { exitAfterOutput } from "../control/host-tool.ts";

/** Runs one ipvsadm invocation; returns the exit code. */
export async function runIpvsadm(argv: string[], stdin: () => string): Promise<number> {
  const cmd = parseIpvsadmArgs(argv);
  switch (cmd.kind) {
    case "help":
      process.stdout.write(usageText());
      return 0;
    case "version":
      process.stdout.write(versionText());
      return 0;
    case "list":
      return await list(cmd);
    case "save": {
      const snapshot = await callDirector({ op: "snapshot" }) as EngineSnapshot;
      process.stdout.write(formatSave(snapshot, cmd.numeric));
      return 0;
    }
    case "restore":
      return await change(parseRestoreInput(stdin()) as TableCommand[]);
    default:
      return await change([cmd as TableCommand]);
  }
}

async function change(commands: TableCommand[]): Promise<number> {
  const result = await callDirector({ op: "ipvsadm", commands }) as IpvsadmResult;
  if (result.refused === null) return 0;
  process.stderr.write(`${result.refused}\n`);
  return result.exitCode;
}

async function list(cmd: Extract<IpvsadmCommand, { kind: "list" }>): Promise<number> {
  if (cmd.view === "timeouts") {
    process.stdout.write(
      formatTimeouts(await callDirector({ op: "timeouts" }) as TimeoutsSnapshot),
    );
    return 0;
  }
  if (cmd.view === "connections") {
    const conns = await callDirector({ op: "connections" }) as ConnectionSnapshot[];
    process.stdout.write(
      formatConnections(conns, {
        numeric: cmd.numeric,
        persistentConn: cmd.format === "persistent-conn",
      }),
    );
    return 0;
  }
  const snapshot = await callDirector({ op: "snapshot" }) as EngineSnapshot;
  const options = { numeric: cmd.numeric, exact: cmd.exact, format: cmd.format, sort: cmd.sort };
  if (cmd.service) {
    const ref = cmd.service;
    const row = snapshot.services.find((s) =>
      s.protocol === ref.protocol && s.addr === ref.addr && s.port === ref.port
    );
    if (!row) {
      process.stderr.write("No such service\n");
      return 1;
    }
    process.stdout.write(formatService(row, options));
    return 0;
  }
  process.stdout.write(formatList(snapshot, options));
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runIpvsadm(process.argv.slice(2), () => fs.readFileSync(0, "utf8")).then(
    (code) => exitAfterOutput(code),
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      exitAfterOutput(err instanceof IpvsadmUsageError ? err.exitCode : 1);
    },
  );
}
