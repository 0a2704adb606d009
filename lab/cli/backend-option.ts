// The options every lab verb shares: which lab (--name), which backend realises it
// (--backend) and its shape (--topology, or --method: the lab of a forwarding method). The
// backend is built here, once per command, and the verbs only use the LabBackend
// interface: no verb knows which backend it drives.
import type { Command } from "commander";
import { availableBackends, createBackend } from "../backends.ts";
import type { LabBackend } from "../backend.ts";
import { DEFAULT_LAB_NAME } from "../topology.ts";
import {
  DEFAULT_TOPOLOGY,
  METHOD_TOPOLOGIES,
  methodOf,
  TOPOLOGIES,
  topologyNamed,
} from "../topologies/index.ts";

export interface LabOptions {
  name: string;
  backend: string;
  /** A name in lab/topologies/index.ts (default: the article's lab). */
  topology?: string;
  /** A forwarding method (METHOD_TOPOLOGIES): selects the topology of its lab. */
  method?: string;
}

/**
 * Adds --name, --backend, --topology and --method (defaults from LVSLAB_NAME,
 * LVSLAB_BACKEND and LVSLAB_TOPOLOGY, else the default lab on netns).
 */
export function withLabOptions(command: Command, nameHelp = "lab name"): Command {
  const methods = Object.entries(METHOD_TOPOLOGIES).map(([m, t]) => `${m} (topology ${t})`);
  return command
    .option("--name <name>", nameHelp, process.env.LVSLAB_NAME ?? DEFAULT_LAB_NAME)
    .option(
      "--backend <kind>",
      `lab backend: ${availableBackends().join(" or ")} (netns: network namespaces, ` +
        "compose: Docker Compose)",
      process.env.LVSLAB_BACKEND ?? "netns",
    )
    // No commander default: whether it was given decides how it meets --method.
    .option(
      "--topology <name>",
      `the lab's shape: ${Object.keys(TOPOLOGIES).join(" or ")} (lab/topologies/; ` +
        `default ${DEFAULT_TOPOLOGY})`,
      process.env.LVSLAB_TOPOLOGY,
    )
    .option(
      "--method <method>",
      `the lab of a forwarding method: ${methods.join(" or ")}; instead of --topology`,
    );
}

/** The topology the options name: --topology, else --method's lab, else the default. */
export function selectedTopology(opts: Pick<LabOptions, "topology" | "method">): string {
  if (opts.method === undefined) return opts.topology ?? DEFAULT_TOPOLOGY;
  if (!Object.hasOwn(METHOD_TOPOLOGIES, opts.method)) {
    throw new Error(
      `method '${opts.method}' has no lab; use one of ${Object.keys(METHOD_TOPOLOGIES).join(", ")}`,
    );
  }
  const topology = METHOD_TOPOLOGIES[opts.method];
  if (opts.topology !== undefined && opts.topology !== topology) {
    throw new Error(
      `--method ${opts.method} is the topology '${topology}', but the topology given ` +
        `(--topology or LVSLAB_TOPOLOGY) is '${opts.topology}'; give only one of them`,
    );
  }
  return topology;
}

export function labBackend(opts: LabOptions): LabBackend {
  return createBackend(opts.backend, opts.name, topologyNamed(selectedTopology(opts)));
}

/** How a hint names a topology again: "" for the default, else --method or --topology. */
export function topologyFlags(topology: string): string {
  if (topology === DEFAULT_TOPOLOGY) return "";
  const method = methodOf(topology);
  return method !== null ? ` --method ${method}` : ` --topology ${topology}`;
}

/** "topology dr (method dr)", or without the method for a topology that shows none. */
export function describeTopology(topology: string): string {
  const method = methodOf(topology);
  return `topology ${topology}${method !== null ? ` (method ${method})` : ""}`;
}

/** The flags that name this lab again in a hint: "" for the default netns lab. */
export function labFlags(backend: LabBackend, topology = DEFAULT_TOPOLOGY): string {
  return (backend.kind === "netns" ? "" : ` --backend ${backend.kind}`) +
    (backend.name === DEFAULT_LAB_NAME ? "" : ` --name ${backend.name}`) +
    topologyFlags(topology);
}
