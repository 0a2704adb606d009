// `lvslab exec <host> -- <cmd...>`: run a command inside a host of the lab.
import { Command } from "commander";
import { execInteractive } from "../lab.ts";
import { userCwd } from "../paths.ts";
import { DEFAULT_LAB_NAME } from "../topology.ts";
import { runAction } from "./run-action.ts";

export function execCommand(): Command {
  return new Command("exec")
    .description("run a command in a host's namespace (client, director, rs1, rs2, net)")
    .argument("<host>", "host name")
    .argument("<command...>", "command and its arguments (put -- before it)")
    .option("--name <name>", "lab name", DEFAULT_LAB_NAME)
    .passThroughOptions()
    .action(runAction((host: string, command: string[], opts: { name: string }) => {
      // With passThroughOptions commander keeps the "--" separator; it is not the command.
      const argv = command[0] === "--" ? command.slice(1) : command;
      return execInteractive(host, argv, { name: opts.name, cwd: userCwd() });
    }));
}
