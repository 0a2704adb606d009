// Verbs that run one of the director host's tools (ipvsadm, lvs-sysctl, lvs-stats) from
// outside the lab, passing every argument through untouched.
import { Command } from "commander";
import { userCwd } from "../paths.ts";
import { runAction } from "./run-action.ts";
import { labBackend, type LabOptions, withLabOptions } from "./backend-option.ts";

export function directorToolCommand(
  verb: string,
  tool: string,
  description: string,
  argsHelp: string,
): Command {
  return withLabOptions(new Command(verb).description(description).argument("[args...]", argsHelp))
    .allowUnknownOption()
    .helpOption(false)
    .passThroughOptions()
    .action(runAction((args: string[], opts: LabOptions) => {
      const argv = args[0] === "--" ? args.slice(1) : args;
      return labBackend(opts).execInteractive("director", [tool, ...argv], { cwd: userCwd() });
    }));
}
