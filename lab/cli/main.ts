// `lvslab`: the lab's command line. One file per verb; this file only wires them together.
import { Command } from "commander";
import { upCommand } from "./up.ts";
import { downCommand } from "./down.ts";
import { statusCommand } from "./status.ts";
import { execCommand } from "./exec.ts";
import { demoCommand } from "./demo.ts";
import { classroomCommand } from "./classroom.ts";
import { ipvsadmCommand } from "./ipvsadm.ts";
import { runCommand } from "./run.ts";
import { sysctlCommand } from "./sysctl.ts";
import { statsCommand } from "./stats.ts";

const program = new Command()
  .name("lvslab")
  .description("A userspace Linux Virtual Server lab in network namespaces")
  // Lets `exec` pass options after its host through to the command unparsed.
  .enablePositionalOptions()
  .addCommand(upCommand())
  .addCommand(downCommand())
  .addCommand(statusCommand())
  .addCommand(execCommand())
  .addCommand(demoCommand())
  .addCommand(classroomCommand())
  .addCommand(ipvsadmCommand())
  .addCommand(sysctlCommand())
  .addCommand(statsCommand())
  .addCommand(runCommand());

await program.parseAsync();
