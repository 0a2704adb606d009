// The options every lab verb shares: which lab (--name) and which backend realises it
// (--backend). The backend is built here, once per command, and the verbs only use the
// LabBackend interface: no verb knows which backend it drives.
import type { Command } from "commander";
import { availableBackends, createBackend } from "../backends.ts";
import type { LabBackend } from "../backend.ts";
import { DEFAULT_LAB_NAME } from "../topology.ts";
import { DEFAULT_TOPOLOGY, TOPOLOGIES, topologyNamed } from "../topologies/index.ts";

export interface LabOptions {
  name: string;
  backend: string;
  /** A name in lab/topologies/index.ts (default: the article's lab). */
  topology?: string;
}

/**
 * Adds --name, --backend and --topology (defaults from LVSLAB_NAME, LVSLAB_BACKEND and
 * LVSLAB_TOPOLOGY, else the default lab on netns).
 */
export function withLabOptions(command: Command, nameHelp = "lab name"): Command {
  return command
    .option("--name <name>", nameHelp, process.env.LVSLAB_NAME ?? DEFAULT_LAB_NAME)
    .option(
      "--backend <kind>",
      `lab backend: ${availableBackends().join(" or ")} (netns: network namespaces, ` +
        "compose: Docker Compose)",
      process.env.LVSLAB_BACKEND ?? "netns",
    )
    .option(
      "--topology <name>",
      `the lab's shape: ${Object.keys(TOPOLOGIES).join(" or ")} (lab/topologies/)`,
      process.env.LVSLAB_TOPOLOGY ?? DEFAULT_TOPOLOGY,
    );
}

export function labBackend(opts: LabOptions): LabBackend {
  return createBackend(opts.backend, opts.name, topologyNamed(opts.topology ?? DEFAULT_TOPOLOGY));
}

/** The flags that name this lab again in a hint: "" for the default netns lab. */
export function labFlags(backend: LabBackend): string {
  return (backend.kind === "netns" ? "" : ` --backend ${backend.kind}`) +
    (backend.name === DEFAULT_LAB_NAME ? "" : ` --name ${backend.name}`);
}
