// `lvslab ipvsadm ...`: ipvsadm run on the lab's director host, from outside the lab.
import { Command } from "commander";
import { execInteractive } from "../lab.ts";
import { userCwd } from "../paths.ts";
import { DEFAULT_LAB_NAME } from "../topology.ts";
import { runAction } from "./run-action.ts";

export function ipvsadmCommand(): Command {
  return new Command("ipvsadm")
    .description("run ipvsadm (same syntax and output) against the lab's director")
    .argument("[args...]", "ipvsadm's own arguments, e.g. -L -n")
    .option("--name <name>", "lab name", process.env.LVSLAB_NAME ?? DEFAULT_LAB_NAME)
    .allowUnknownOption()
    .helpOption(false)
    .passThroughOptions()
    .action(runAction((args: string[], opts: { name: string }) => {
      const argv = args[0] === "--" ? args.slice(1) : args;
      return execInteractive("director", ["ipvsadm", ...argv], { name: opts.name, cwd: userCwd() });
    }));
}
