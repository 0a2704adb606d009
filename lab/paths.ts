// Where things are: the repository (programs run from it) and the user's own working
// directory (the ./lvslab launcher cds to the repo and passes the original one on).
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Topology } from "./topology.ts";

export const REPO_ROOT = path.resolve(fileURLToPath(new URL("..", import.meta.url)));

/** The article's service table (VS/NAT), in lab/: the table of topologies that name none. */
export const DEFAULT_SERVICES_FILE = "default-services.yaml";
export const DEFAULT_CONFIG = path.join(REPO_ROOT, "lab", DEFAULT_SERVICES_FILE);

/** The file in lab/ holding the topology's default service table. */
export function servicesFile(topology: Pick<Topology, "services">): string {
  return topology.services ?? DEFAULT_SERVICES_FILE;
}

/** The service table `up` gives the director without --config: the topology's own. */
export function defaultConfigPath(topology: Pick<Topology, "services">): string {
  return path.join(REPO_ROOT, "lab", servicesFile(topology));
}

/** The directory the user ran lvslab from; relative paths they give are relative to it. */
export function userCwd(): string {
  return process.env.LVSLAB_CWD || process.cwd();
}

/** Resolves a user-given path against the user's working directory. */
export function userPath(p: string): string {
  return path.resolve(userCwd(), p);
}
