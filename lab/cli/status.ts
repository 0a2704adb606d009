// `lvslab status`: hosts, their addresses, and whether the lab's programs are alive.
import { Command } from "commander";
import { labStatus } from "../lab.ts";
import { DEFAULT_LAB_NAME } from "../topology.ts";
import { runAction } from "./run-action.ts";
import { BACKEND_HELP, BACKEND_OPTION, checkBackend, composeStatus } from "../compose/cli-verbs.ts";

export function statusCommand(): Command {
  return new Command("status")
    .description("show the lab's hosts, addresses and processes")
    .option("--name <name>", "lab name", DEFAULT_LAB_NAME)
    .option("--json", "print the status as JSON")
    .option(BACKEND_OPTION, BACKEND_HELP, "netns")
    .action(runAction((opts: { name: string; json?: boolean; backend: string }) => {
      if (checkBackend(opts.backend) === "compose") {
        return composeStatus(opts.name, opts.json ?? false, DEFAULT_LAB_NAME);
      }
      const status = labStatus(opts.name);
      if (opts.json) {
        console.log(JSON.stringify(status, null, 2));
        return status.up ? 0 : 3;
      }
      if (!status.up && !status.state) {
        console.log(`lab '${opts.name}' is not up (start it with: lvslab up)`);
        return 3;
      }
      const s = status.state;
      console.log(
        `lab '${opts.name}': ${status.up ? "up" : "DOWN"}` +
          (s ? ` since ${s.createdAt}, config ${s.configPath ?? "(no director)"}` : ""),
      );
      console.log("hosts:");
      for (const h of status.hosts) {
        const what = h.present ? (h.addresses.join(", ") || "(no addresses)") : "MISSING";
        console.log(`  ${h.host.padEnd(9)} ${h.namespace.padEnd(18)} ${what}`);
      }
      console.log("processes:");
      if (status.processes.length === 0) console.log("  (none recorded)");
      for (const p of status.processes) {
        console.log(
          `  ${p.name.padEnd(9)} pid ${String(p.pid).padEnd(8)} ${
            p.alive ? "alive" : "DEAD "
          }  log ${p.log}`,
        );
      }
      for (const w of status.warnings) console.log(`warning: ${w}`);
      const healthy = status.up && status.state !== null && status.warnings.length === 0 &&
        status.hosts.every((h) => h.present) && status.processes.every((p) => p.alive);
      return healthy ? 0 : 1;
    }));
}
