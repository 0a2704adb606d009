// The host's own network namespace as text (addresses, routes, rules, links), so lab tests
// can prove the lab never touched it.
import { mustRun } from "../netns/command.ts";

export function rootNamespaceSnapshot(): string {
  return [
    ["ip", "-4", "addr"],
    ["ip", "-4", "route"],
    ["ip", "rule"],
    ["ip", "link"],
  ].map((argv) => `## ${argv.join(" ")}\n${mustRun(argv)}`)
    .join("\n")
    .split("\n")
    .filter((l) => !/valid_lft/.test(l))
    .join("\n");
}
