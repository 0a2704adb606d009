// Verbs that run one of the director host's tools (ipvsadm, lvs-sysctl, lvs-stats) from
// outside the lab, passing every argument through untouched.
import { Command } from "commander";
import { execInteractive } from "../lab.ts";
import { userCwd } from "../paths.ts";
import { DEFAULT_LAB_NAME } from "../topology.ts";
import { runAction } from "./run-action.ts";
import { BACKEND_HELP, BACKEND_OPTION, checkBackend, composeExec } from "../compose/cli-verbs.ts";

export function directorToolCommand(
  verb: string,
  tool: string,
  description: string,
  argsHelp: string,
): Command {
  return new Command(verb)
    .description(description)
    .argument("[args...]", argsHelp)
    .option("--name <name>", "lab name", process.env.LVSLAB_NAME ?? DEFAULT_LAB_NAME)
    .option(BACKEND_OPTION, BACKEND_HELP, process.env.LVSLAB_BACKEND ?? "netns")
    .allowUnknownOption()
    .helpOption(false)
    .passThroughOptions()
    .action(runAction((args: string[], opts: { name: string; backend: string }) => {
      const argv = args[0] === "--" ? args.slice(1) : args;
      if (checkBackend(opts.backend) === "compose") {
        return composeExec(opts.name, "director", [tool, ...argv]);
      }
      return execInteractive("director", [tool, ...argv], { name: opts.name, cwd: userCwd() });
    }));
}
