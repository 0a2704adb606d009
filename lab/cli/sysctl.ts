// `lvslab sysctl ...`: the director's net.ipv4.vs.* settings, from outside the lab.
import type { Command } from "commander";
import { directorToolCommand } from "./director-tool.ts";

export function sysctlCommand(): Command {
  return directorToolCommand(
    "sysctl",
    "lvs-sysctl",
    "show or set the director's IPVS settings (lvs-sysctl -w NAME=VALUE)",
    "lvs-sysctl's arguments, e.g. -w net.ipv4.vs.expire_nodest_conn=1",
  );
}
