// Why a Compose lab test cannot run on this machine (or null when it can), for
// requireRoot(t, blocker): root for Docker's socket, an engine that answers, and a Compose
// command line. Outside CI the tests then skip with this reason; under CI=true they fail.
import { spawnSync } from "node:child_process";
import { findCompose } from "./compose-cli.ts";
import { isRoot } from "../root.ts";

export function composeTestBlocker(): string | null {
  if (!isRoot()) return "the Compose lab tests need root (Docker's socket)";
  // A synchronous check, bounded: the engine answers `docker info`.
  const info = spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], {
    encoding: "utf8",
    timeout: 15_000,
  });
  if (info.error || info.status !== 0) {
    return "no Docker engine answers; start one with 'sudo scripts/docker-start.sh' " +
      "and build the base image with 'sudo scripts/docker-base-image.sh'";
  }
  try {
    findCompose();
  } catch (err) {
    return (err as Error).message;
  }
  return null;
}
