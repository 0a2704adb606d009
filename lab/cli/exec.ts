// `lvslab exec <host> -- <cmd...>`: run a command inside a host of the lab.
import { Command } from "commander";
import { execInteractive } from "../lab.ts";
import { userCwd } from "../paths.ts";
import { DEFAULT_LAB_NAME } from "../topology.ts";
import { runAction } from "./run-action.ts";
import { BACKEND_HELP, BACKEND_OPTION, checkBackend, composeExec } from "../compose/cli-verbs.ts";

type ExecOptions = { name: string; backend: string };

export function execCommand(): Command {
  return new Command("exec")
    .description("run a command in a host's namespace (client, director, rs1, rs2, net)")
    .argument("<host>", "host name")
    .argument("<command...>", "command and its arguments (put -- before it)")
    .option("--name <name>", "lab name", DEFAULT_LAB_NAME)
    .option(BACKEND_OPTION, BACKEND_HELP, "netns")
    .passThroughOptions()
    .action(runAction((host: string, command: string[], opts: ExecOptions) => {
      // With passThroughOptions commander keeps the "--" separator; it is not the command.
      const argv = command[0] === "--" ? command.slice(1) : command;
      if (checkBackend(opts.backend) === "compose") return composeExec(opts.name, host, argv);
      return execInteractive(host, argv, { name: opts.name, cwd: userCwd() });
    }));
}
