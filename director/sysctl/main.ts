// `lvs-sysctl`: the director's net.ipv4.vs.* settings, read and written the way `sysctl` does
// it for the kernel's IPVS (`lvs-sysctl -w net.ipv4.vs.expire_nodest_conn=1`).
import { callDirector } from "../control/socket.ts";
import { runAsProgram } from "../control/host-tool.ts";
import { SYSCTL_NAMES, SYSCTL_PREFIX, sysctlHelp, sysctlShortName } from "./settings.ts";

const USAGE = `Usage: lvs-sysctl [-a] [NAME...] [-w NAME=VALUE...]
  (no arguments), -a   show every setting
  NAME                 show one, e.g. net.ipv4.vs.expire_nodest_conn
  -w NAME=VALUE        set settings (all or none): ${SYSCTL_NAMES.join(", ")}
  -h                   this help
`;

export interface SysctlRequest {
  show: string[];
  set: Record<string, string>;
}

/** Parses sysctl-style arguments; throws a sentence for anything it does not take. */
export function parseSysctlArgs(argv: string[]): SysctlRequest | "help" {
  const request: SysctlRequest = { show: [], set: {} };
  let writing = false;
  for (const arg of argv) {
    if (arg === "-h" || arg === "--help") return "help";
    if (arg === "-a" || arg === "--all") continue;
    if (arg === "-w" || arg === "--write") {
      writing = true;
      continue;
    }
    if (arg.startsWith("-")) throw new Error(`unknown option '${arg}'; see lvs-sysctl -h`);
    const eq = arg.indexOf("=");
    if (eq >= 0) {
      if (!writing) throw new Error(`'${arg}' sets a value: use -w ${arg}`);
      request.set[SYSCTL_PREFIX + sysctlShortName(arg.slice(0, eq).trim())] = arg.slice(eq + 1)
        .trim();
    } else {
      if (writing) throw new Error(`-w needs NAME=VALUE, got '${arg}'`);
      request.show.push(SYSCTL_PREFIX + sysctlShortName(arg));
    }
  }
  return request;
}

export async function runSysctl(argv: string[]): Promise<number> {
  const request = parseSysctlArgs(argv);
  if (request === "help") {
    const lines = SYSCTL_NAMES.map((n) => `  ${SYSCTL_PREFIX}${n}: ${sysctlHelp(n)}`);
    process.stdout.write(`${USAGE}\n${lines.join("\n")}\n`);
    return 0;
  }
  const writing = Object.keys(request.set).length > 0;
  const values = await callDirector({
    op: "sysctl",
    ...(writing ? { set: request.set } : {}),
  }) as Record<string, number>;
  const names = writing
    ? Object.keys(request.set)
    : request.show.length > 0
    ? request.show
    : Object.keys(values);
  for (const name of names) process.stdout.write(`${name} = ${values[name]}\n`);
  return 0;
}

runAsProgram(import.meta.url, "lvs-sysctl", runSysctl);
