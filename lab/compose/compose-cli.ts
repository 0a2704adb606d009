// Finds and runs the Compose command line for a Compose file (the repository's compose.yaml
// or one generated from a topology, lab/compose/generate.ts): Compose v2
// (`docker compose`) when the docker client has the plugin, Debian's docker-compose 1.29
// otherwise. Compose does the build and the up/down; everything else goes through the
// Docker API (compose-backend.ts, docker-exec.ts).
import { spawnSync } from "node:child_process";
import path from "node:path";
import { type CommandResult, runAsync } from "../netns/command.ts";
import { REPO_ROOT } from "../paths.ts";

export const COMPOSE_FILE = path.join(REPO_ROOT, "compose.yaml");

export interface ComposeCli {
  /** argv prefix: ["docker", "compose"] or ["docker-compose"]. */
  argv: string[];
  /** The version line it printed, e.g. "docker-compose version 1.29.2". */
  version: string;
}

let found: ComposeCli | null = null;

/** The Compose command line of this machine; throws a sentence when there is none. */
export function findCompose(): ComposeCli {
  if (found) return found;
  for (const argv of [["docker", "compose"], ["docker-compose"]]) {
    const r = spawnSync(argv[0], [...argv.slice(1), "version"], {
      encoding: "utf8",
      timeout: 15_000,
    });
    if (!r.error && r.status === 0) {
      found = { argv, version: r.stdout.split("\n")[0].trim() };
      return found;
    }
  }
  throw new Error(
    "neither 'docker compose' nor 'docker-compose' works here; install one " +
      "(sudo scripts/docker-start.sh installs Debian's docker.io and docker-compose)",
  );
}

/**
 * Runs `compose -f <file> -p <project> <args>` (file: compose.yaml unless given) with extra
 * environment (the file's variables), bounded by timeoutMs (then SIGKILL). Never throws for
 * a non-zero exit.
 */
export function runCompose(
  project: string,
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number; file?: string } = {},
): Promise<CommandResult> {
  const cli = findCompose();
  const argv = [...cli.argv, "-f", options.file ?? COMPOSE_FILE, "-p", project, ...args];
  return runAsync(argv, {
    cwd: REPO_ROOT,
    env: options.env,
    timeoutMs: options.timeoutMs ?? 120_000,
  });
}

/** Last lines of a command's output, for error sentences. */
export function tail(text: string, lines = 12): string {
  return text.trim().split("\n").slice(-lines).join("\n");
}
