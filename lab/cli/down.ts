// `lvslab down`: remove everything of the lab; idempotent, works after a crashed run.
import { Command } from "commander";
import { runAction } from "./run-action.ts";
import { labBackend, type LabOptions, withLabOptions } from "./backend-option.ts";

export function downCommand(): Command {
  return withLabOptions(
    new Command("down")
      .description(
        "stop the lab's processes and remove its hosts, networks and state (idempotent)",
      ),
  ).action(runAction(async (opts: LabOptions) => {
    const backend = labBackend(opts);
    const report = await backend.teardown();
    for (const w of report.warnings) console.error(`lvslab: warning: ${w}`);
    for (const line of report.removed) console.log(line);
    if (report.remaining.length > 0) {
      throw new Error(
        `lab '${backend.name}' is not fully down; still there: ${report.remaining.join(", ")}`,
      );
    }
    console.log(
      report.removed.length === 0
        ? `lab '${backend.name}' was not up; nothing to remove`
        : `lab '${backend.name}' is down on ${backend.label} (nothing of it is left)`,
    );
  }));
}
