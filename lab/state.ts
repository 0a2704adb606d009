// The lab's state file, /run/lvslab/<name>/state.json: what `up` created, so `down` and
// `status` know it. /run is tmpfs, so a reboot (which also drops namespaces) forgets it too.
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";

export const DEFAULT_RUN_DIR = "/run/lvslab";

const processSchema = z.object({
  /** What the process is, e.g. "director" or "rs1-http". */
  name: z.string(),
  host: z.string(),
  namespace: z.string(),
  pid: z.number().int().positive(),
  argv: z.array(z.string()),
  log: z.string(),
});

const stateSchema = z.object({
  version: z.literal(1),
  name: z.string(),
  createdAt: z.string(),
  repoRoot: z.string(),
  configPath: z.string().nullable(),
  /** The topology's name (lab/topologies/); absent in states written before it was kept. */
  topology: z.string().optional(),
  namespaces: z.array(z.string()),
  bridges: z.array(z.object({ namespace: z.string(), name: z.string() })),
  veths: z.array(
    z.object({
      namespace: z.string(),
      name: z.string(),
      peerNamespace: z.string(),
      peerName: z.string(),
    }),
  ),
  processes: z.array(processSchema),
  /** VS/TUN real servers: host → how it decapsulates (lab/decapsulation.ts summary). */
  decapsulation: z.record(z.string(), z.string()).optional(),
});

export type LabProcess = z.infer<typeof processSchema>;
export type LabState = z.infer<typeof stateSchema>;

/** Directory for one lab's state file and logs. */
export function stateDir(name: string, runDir = DEFAULT_RUN_DIR): string {
  return path.join(runDir, name);
}

export function stateFile(name: string, runDir = DEFAULT_RUN_DIR): string {
  return path.join(stateDir(name, runDir), "state.json");
}

/** Writes the state atomically (temp file + rename), so a crash never leaves half a file. */
export function writeState(state: LabState, runDir = DEFAULT_RUN_DIR): string {
  const file = stateFile(state.name, runDir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(stateSchema.parse(state), null, 2) + "\n");
  fs.renameSync(tmp, file);
  return file;
}

/** Reads the state; null when there is none; throws a sentence when it is unreadable. */
export function readState(name: string, runDir = DEFAULT_RUN_DIR): LabState | null {
  const file = stateFile(name, runDir);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error(`state file ${file} is not valid JSON; 'lvslab down' cleans up without it`);
  }
  const parsed = stateSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `state file ${file} is not a lab state (${parsed.error.issues[0].message}); ` +
        "'lvslab down' cleans up without it",
    );
  }
  return parsed.data;
}

/** Removes the lab's state directory (state file and logs); true when there was one. */
export function removeStateDir(name: string, runDir = DEFAULT_RUN_DIR): boolean {
  const dir = stateDir(name, runDir);
  if (!fs.existsSync(dir)) return false;
  fs.rmSync(dir, { recursive: true, force: true });
  return true;
}
