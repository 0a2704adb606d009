// `lvslab classroom`: the browser view of the lab (classroom/): brings the lab up if needed,
// serves the page on 127.0.0.1 and prints its URL; runs until Ctrl-C, leaving the lab up.
import { Command } from "commander";
import path from "node:path";
import { runAction } from "./run-action.ts";
import {
  labBackend,
  labFlags,
  type LabOptions,
  selectedTopology,
  withLabOptions,
} from "./backend-option.ts";
import { defaultArtifactsDir } from "../scenario/runner.ts";
import { startClassroom } from "../../classroom/start.ts";
import { DEFAULT_PORT } from "../../classroom/server.ts";
import { startReplay } from "../../classroom/replay.ts";
import { userPath } from "../paths.ts";

/** Until Ctrl-C or a TERM. */
function untilStopped(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
}

export function classroomCommand(): Command {
  return withLabOptions(
    new Command("classroom")
      .description("serve a page on 127.0.0.1 that shows each packet change at the director")
      .option("--port <n>", `port on 127.0.0.1 (0: any free one)`, (v) => Number(v), DEFAULT_PORT)
      .option("--artifacts <dir>", "where the pcaps go (default artifacts/<time>-classroom)")
      .option(
        "--replay <dir>",
        "show a scenario's recorded run (its artifacts folder) instead of a lab; no lab is used",
      ),
  ).action(
    runAction(async (opts: LabOptions & { port: number; artifacts?: string; replay?: string }) => {
      if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
        throw new Error("--port must be a port number from 0 to 65535 (0: any free one)");
      }
      if (opts.replay) {
        const replay = await startReplay({ dir: userPath(opts.replay), port: opts.port });
        console.log(replay.session.recording);
        console.log(`\nthe classroom is at ${replay.url}; Ctrl-C stops it`);
        await untilStopped();
        await replay.close();
        return 0;
      }
      const backend = labBackend(opts);
      const topologyName = selectedTopology(opts);
      const dir = opts.artifacts
        ? path.resolve(opts.artifacts)
        : `${defaultArtifactsDir()}-classroom`;
      const classroom = await startClassroom({
        backend,
        topologyName,
        artifactsDir: dir,
        port: opts.port,
        log: (l) => console.log(l.trim()),
      });
      console.log(`\nthe classroom is at ${classroom.url} (pcaps in ${dir})`);
      console.log(
        `Ctrl-C stops it; the lab stays up (lvslab down${labFlags(backend, topologyName)})`,
      );
      await untilStopped();
      console.log("stopping the classroom");
      await classroom.close();
      // The page may have switched the method: the lab up now is that one.
      console.log(`the lab stays up (lvslab down${labFlags(backend, classroom.topologyName)})`);
      return 0;
    }),
  );
}
