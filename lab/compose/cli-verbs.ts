// What the CLI verbs (lab/cli/up.ts, down.ts, status.ts, exec.ts, ipvsadm.ts) do with
// `--backend compose`: the same verbs, realised by the Compose backend.
import { ComposeBackend } from "./compose-backend.ts";

export const BACKEND_OPTION = "--backend <kind>";
export const BACKEND_HELP = "lab backend: netns (network namespaces) or compose (Docker)";

/** Throws a sentence unless kind is a backend the CLI knows. */
export function checkBackend(kind: string): "netns" | "compose" {
  if (kind === "netns" || kind === "compose") return kind;
  throw new Error(`backend '${kind}' is unknown; use --backend netns or --backend compose`);
}

function nameFlag(name: string, defaultName: string): string {
  return name === defaultName ? "" : ` --name ${name}`;
}

export async function composeUp(
  opts: { name: string; config?: string; director: boolean },
  defaultName: string,
): Promise<void> {
  if (!opts.director) {
    throw new Error("--no-director is for the netns backend only; the Compose lab always has one");
  }
  const backend = new ComposeBackend(opts.name);
  await backend.up({ config: opts.config, log: (line) => console.log(line) });
  console.log(
    `lab '${opts.name}' is up on Docker Compose (project '${opts.name}'); ` +
      `take it down with: lvslab down --backend compose${nameFlag(opts.name, defaultName)}`,
  );
}

export async function composeDown(name: string): Promise<void> {
  const report = await new ComposeBackend(name).downReport();
  for (const w of report.warnings) console.error(`lvslab: warning: ${w}`);
  if (report.leftovers.length > 0) {
    console.log(`removed what compose down left: ${report.leftovers.join(", ")}`);
  }
  if (report.remaining.length > 0) {
    throw new Error(
      `lab '${name}' is not fully down; still there: ${report.remaining.join(", ")}`,
    );
  }
  console.log(`lab '${name}' is down on Docker Compose (no container, network or volume left)`);
}

/** Prints the Compose lab's status; returns the CLI's exit code (0 healthy, 1 not, 3 down). */
export async function composeStatus(
  name: string,
  json: boolean,
  defaultName: string,
): Promise<number> {
  const status = await new ComposeBackend(name).status();
  if (json) {
    console.log(JSON.stringify(status, null, 2));
    return status.up ? 0 : 3;
  }
  if (status.containers.length === 0) {
    console.log(
      `lab '${name}' is not up on Docker Compose (start it with: lvslab up --backend compose${
        nameFlag(name, defaultName)
      })`,
    );
    return 3;
  }
  console.log(`lab '${name}' on Docker Compose: ${status.up ? "up" : "DOWN"} (${status.compose})`);
  console.log("hosts:");
  for (const c of status.containers) {
    console.log(
      `  ${c.host.padEnd(9)} ${c.container.padEnd(22)} ${c.state.padEnd(8)} ${
        c.addresses.join(", ")
      }`,
    );
  }
  console.log(`networks: ${status.networks.join(", ") || "(none)"}`);
  if (status.volumes.length > 0) console.log(`volumes: ${status.volumes.join(", ")}`);
  for (const w of status.warnings) console.log(`warning: ${w}`);
  return status.up && status.warnings.length === 0 ? 0 : 1;
}

export function composeExec(name: string, host: string, argv: string[]): Promise<number> {
  return new ComposeBackend(name).execInteractive(host, argv);
}
