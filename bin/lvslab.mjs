#!/usr/bin/env node
// Package bin: re-executes the TypeScript CLI under tsx, from the repository root (where tsx
// resolves), keeping the user's working directory in LVSLAB_CWD.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const child = spawn(
  process.execPath,
  ["--import", "tsx", "lab/cli/main.ts", ...process.argv.slice(2)],
  {
    cwd: repoRoot,
    stdio: "inherit",
    env: { ...process.env, LVSLAB_CWD: process.env.LVSLAB_CWD || process.cwd() },
  },
);
// Ctrl-C reaches the child through the terminal; don't die before it.
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
