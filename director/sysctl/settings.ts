// The director's counterparts of IPVS's sysctls (net.ipv4.vs.*) that change behaviour at run
// time. Read and written by name, as `sysctl` does; a bad name or value is refused whole.
import type { DirectorEngine } from "../engine/engine.ts";

export const SYSCTL_PREFIX = "net.ipv4.vs.";

interface Setting {
  /** What the setting does, for `lvs-sysctl -h`. */
  help: string;
  read(engine: DirectorEngine): number;
  write(engine: DirectorEngine, value: number): void;
}

/** 0/1 settings backed by a boolean field of the engine. */
function flag(
  help: string,
  field: "expireNodestConn" | "expireQuiescentTemplate",
): Setting {
  return {
    help,
    read: (engine) => engine[field] ? 1 : 0,
    write: (engine, value) => {
      engine[field] = value === 1;
      // Deleted servers' entries go at once once the setting is on (kernel ≥ 5.9).
      if (field === "expireNodestConn") engine.expireEntriesOfRemovedServers();
    },
  };
}

const SETTINGS: Record<string, Setting> = {
  expire_nodest_conn: flag(
    "1: entries whose real server was deleted are expired at once; 0: kept, their packets dropped",
    "expireNodestConn",
  ),
  expire_quiescent_template: flag(
    "1: a persistence template whose real server has weight 0 is dropped on its next use",
    "expireQuiescentTemplate",
  ),
};

export const SYSCTL_NAMES: readonly string[] = Object.keys(SETTINGS);

/** "net.ipv4.vs.expire_nodest_conn" or "expire_nodest_conn" → the short name, or an error. */
export function sysctlShortName(name: string): string {
  const short = name.startsWith(SYSCTL_PREFIX) ? name.slice(SYSCTL_PREFIX.length) : name;
  if (!(short in SETTINGS)) {
    throw new Error(
      `unknown setting '${name}'; the director has ${
        SYSCTL_NAMES.map((n) => SYSCTL_PREFIX + n).join(", ")
      }`,
    );
  }
  return short;
}

/** Checks a value before anything is written: these settings take 0 or 1. */
export function checkSysctlValue(name: string, value: unknown): number {
  if (value !== 0 && value !== 1 && value !== "0" && value !== "1") {
    throw new Error(`${SYSCTL_PREFIX}${sysctlShortName(name)} takes 0 or 1, not '${value}'`);
  }
  return Number(value);
}

export function sysctlHelp(name: string): string {
  return SETTINGS[sysctlShortName(name)].help;
}

/** Every setting's current value, by full name. */
export function readSysctls(engine: DirectorEngine): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of SYSCTL_NAMES) out[SYSCTL_PREFIX + name] = SETTINGS[name].read(engine);
  return out;
}

/** Applies name=value pairs all or nothing: every pair is checked before any is written. */
export function writeSysctls(engine: DirectorEngine, values: Record<string, unknown>): void {
  const checked = Object.entries(values).map(([name, value]) =>
    [sysctlShortName(name), checkSysctlValue(name, value)] as const
  );
  for (const [name, value] of checked) SETTINGS[name].write(engine, value);
}
