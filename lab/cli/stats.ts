// `lvslab stats`: the director's counters (totals, drops by reason, failed writes), from
// outside the lab.
import type { Command } from "commander";
import { directorToolCommand } from "./director-tool.ts";

export function statsCommand(): Command {
  return directorToolCommand(
    "stats",
    "lvs-stats",
    "show the director's counters: totals, dropped packets by reason, failed writes",
    "lvs-stats's arguments: --json",
  );
}
