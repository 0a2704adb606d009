// `lvslab ipvsadm ...`: ipvsadm run on the lab's director host, from outside the lab.
import type { Command } from "commander";
import { directorToolCommand } from "./director-tool.ts";

export function ipvsadmCommand(): Command {
  return directorToolCommand(
    "ipvsadm",
    "ipvsadm",
    "run ipvsadm (same syntax and output) against the lab's director",
    "ipvsadm's own arguments, e.g. -L -n",
  );
}
