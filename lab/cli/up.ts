// `lvslab up`: build the lab and start its programs, on the chosen backend.
import { Command } from "commander";
import { runAction } from "./run-action.ts";
import {
  describeTopology,
  labBackend,
  labFlags,
  type LabOptions,
  selectedTopology,
  withLabOptions,
} from "./backend-option.ts";

export function upCommand(): Command {
  return withLabOptions(
    new Command("up")
      .description("build the lab (hosts, networks) and start director and real servers")
      .option(
        "--config <file>",
        "director service table (default: the topology's, e.g. lab/default-services.yaml)",
      )
      .option("--no-director", "do not start the director (network and real servers only)"),
    "lab name, the prefix of every namespace or the Compose project",
  ).action(runAction(async (opts: LabOptions & { config?: string; director: boolean }) => {
    const backend = labBackend(opts);
    const topology = selectedTopology(opts);
    await backend.up({
      config: opts.config,
      director: opts.director,
      log: (line) => console.log(line),
    });
    console.log(`lab '${backend.name}' is up on ${backend.label}, ${describeTopology(topology)}`);
    if (!opts.director) console.log("no director was started (--no-director)");
    console.log(`take it down with: lvslab down${labFlags(backend, topology)}`);
  }));
}
