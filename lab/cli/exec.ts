// `lvslab exec <host> -- <cmd...>`: run a command inside a host of the lab.
import { Command } from "commander";
import { userCwd } from "../paths.ts";
import { runAction } from "./run-action.ts";
import { labBackend, type LabOptions, withLabOptions } from "./backend-option.ts";

export function execCommand(): Command {
  return withLabOptions(
    new Command("exec")
      .description("run a command in a host of the lab (client, director, rs1, rs2, net)")
      .argument("<host>", "host name")
      .argument("<command...>", "command and its arguments (put -- before it)"),
  )
    .passThroughOptions()
    .action(runAction((host: string, command: string[], opts: LabOptions) => {
      // With passThroughOptions commander keeps the "--" separator; it is not the command.
      const argv = command[0] === "--" ? command.slice(1) : command;
      return labBackend(opts).execInteractive(host, argv, { cwd: userCwd() });
    }));
}
