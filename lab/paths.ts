// Where things are: the repository (programs run from it) and the user's own working
// directory (the ./lvslab launcher cds to the repo and passes the original one on).
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(fileURLToPath(new URL("..", import.meta.url)));

export const DEFAULT_CONFIG = path.join(REPO_ROOT, "lab", "default-services.yaml");

/** The directory the user ran lvslab from; relative paths they give are relative to it. */
export function userCwd(): string {
  return process.env.LVSLAB_CWD || process.cwd();
}

/** Resolves a user-given path against the user's working directory. */
export function userPath(p: string): string {
  return path.resolve(userCwd(), p);
}
