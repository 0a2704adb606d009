// `lvslab status`: hosts, their addresses, and whether the lab's programs are alive.
// Exit code 0 healthy, 1 up but not healthy, 3 not up.
import { Command } from "commander";
import { runAction } from "./run-action.ts";
import {
  describeTopology,
  labBackend,
  labFlags,
  type LabOptions,
  selectedTopology,
  withLabOptions,
} from "./backend-option.ts";

export function statusCommand(): Command {
  return withLabOptions(
    new Command("status")
      .description("show the lab's hosts, addresses and processes")
      .option("--json", "print the backend's status as JSON"),
  ).action(runAction(async (opts: LabOptions & { json?: boolean }) => {
    const backend = labBackend(opts);
    const status = await backend.status();
    // The topology the lab records, else the one asked for.
    const topology = status.topology ?? selectedTopology(opts);
    if (opts.json) {
      console.log(JSON.stringify(status.raw, null, 2));
      return status.up ? 0 : 3;
    }
    if (!status.exists) {
      console.log(
        `lab '${backend.name}' is not up on ${backend.label} ` +
          `(start it with: lvslab up${labFlags(backend, topology)})`,
      );
      return 3;
    }
    console.log(
      `lab '${backend.name}' on ${backend.label}: ${status.up ? "up" : "DOWN"}` +
        (status.detail ? ` ${status.detail}` : ""),
    );
    console.log(describeTopology(topology));
    console.log("hosts:");
    for (const h of status.hosts) {
      const what = h.addresses.join(", ") || "(no addresses)";
      const state = h.state ? `${h.state.padEnd(8)} ` : "";
      console.log(`  ${h.host.padEnd(9)} ${h.where.padEnd(22)} ${state}${what}`);
    }
    for (const [host, how] of Object.entries(status.decapsulation)) {
      console.log(`  ${host.padEnd(9)} decapsulation: ${how}`);
    }
    if (status.networks.length > 0) console.log(`networks: ${status.networks.join(", ")}`);
    if (status.processes !== null) {
      console.log("processes:");
      if (status.processes.length === 0) console.log("  (none recorded)");
    }
    for (const p of status.processes ?? []) {
      console.log(
        `  ${p.name.padEnd(9)} pid ${String(p.pid).padEnd(8)} ${
          p.alive ? "alive" : "DEAD "
        }  log ${p.log}`,
      );
    }
    for (const w of status.warnings) console.log(`warning: ${w}`);
    return status.healthy ? 0 : 1;
  }));
}
