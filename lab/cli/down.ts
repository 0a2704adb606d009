// `lvslab down`: remove everything of the lab; idempotent, works after a crashed run.
import { Command } from "commander";
import { labDown } from "../lab.ts";
import { DEFAULT_LAB_NAME } from "../topology.ts";
import { runAction } from "./run-action.ts";
import { BACKEND_HELP, BACKEND_OPTION, checkBackend, composeDown } from "../compose/cli-verbs.ts";

export function downCommand(): Command {
  return new Command("down")
    .description("stop the lab's processes and delete its namespaces and state (idempotent)")
    .option("--name <name>", "lab name", DEFAULT_LAB_NAME)
    .option(BACKEND_OPTION, BACKEND_HELP, "netns")
    .action(runAction(async (opts: { name: string; backend: string }) => {
      if (checkBackend(opts.backend) === "compose") return composeDown(opts.name);
      const report = await labDown(opts.name);
      for (const w of report.warnings) console.error(`lvslab: warning: ${w}`);
      if (report.pids.length > 0) console.log(`stopped processes: ${report.pids.join(", ")}`);
      if (report.namespaces.length > 0) {
        console.log(`deleted namespaces: ${report.namespaces.join(", ")}`);
      }
      if (report.stateDir) console.log(`removed ${report.stateDir}`);
      if (report.pids.length + report.namespaces.length === 0 && !report.stateDir) {
        console.log(`lab '${opts.name}' was not up; nothing to remove`);
      } else {
        console.log(`lab '${opts.name}' is down`);
      }
    }));
}
