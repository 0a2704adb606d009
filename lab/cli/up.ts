// `lvslab up`: build the lab and start its programs.
import { Command } from "commander";
import { labUp } from "../lab.ts";
import { DEFAULT_LAB_NAME } from "../topology.ts";
import { stateFile } from "../state.ts";
import { runAction } from "./run-action.ts";
import { BACKEND_HELP, BACKEND_OPTION, checkBackend, composeUp } from "../compose/cli-verbs.ts";

export function upCommand(): Command {
  return new Command("up")
    .description("build the lab (namespaces, bridges, veths) and start director and real servers")
    .option("--name <name>", "lab name, the prefix of every namespace", DEFAULT_LAB_NAME)
    .option("--config <file>", "director service table (default lab/default-services.yaml)")
    .option("--no-director", "do not start the director (network and real servers only)")
    .option(BACKEND_OPTION, BACKEND_HELP, "netns")
    .action(runAction(async (
      opts: { name: string; config?: string; director: boolean; backend: string },
    ) => {
      if (checkBackend(opts.backend) === "compose") return composeUp(opts, DEFAULT_LAB_NAME);
      const state = await labUp({
        name: opts.name,
        config: opts.config,
        director: opts.director,
        log: (line) => console.log(line),
      });
      console.log(`lab '${state.name}' is up (state in ${stateFile(state.name)})`);
      if (!opts.director) console.log("no director was started (--no-director)");
      console.log(
        `take it down with: lvslab down${
          opts.name === DEFAULT_LAB_NAME ? "" : ` --name ${opts.name}`
        }`,
      );
    }));
}
