// What the peers change in the director's namespace (rules, routes, addresses, nftables,
// listening sockets), captured before and after each peer so a setup that was not undone
// fails the run instead of skewing the next peer's numbers.
import { execIn } from "../lab/netns/lab.ts";
import { LAB, VIP } from "./config.ts";

const PROBES: string[][] = [
  ["ip", "-4", "rule", "show"],
  ["ip", "-4", "route", "show", "table", "all"],
  ["ip", "-4", "-o", "addr", "show"],
  ["nft", "list", "ruleset"],
  ["ss", "-Hltnu"],
];

export async function directorNetState(): Promise<string> {
  const parts: string[] = [];
  for (const argv of PROBES) {
    const r = await execIn("director", argv, { name: LAB });
    parts.push(`$ ${argv.join(" ")}\n${r.stdout.trim()}`);
  }
  return parts.join("\n");
}

/** Lines in `after` that are not in `before` and vice versa ("" when equal). */
export function stateDiff(before: string, after: string): string {
  const a = new Set(before.split("\n"));
  const b = new Set(after.split("\n"));
  const gone = [...a].filter((l) => !b.has(l)).map((l) => `- ${l}`);
  const added = [...b].filter((l) => !a.has(l)).map((l) => `+ ${l}`);
  return [...gone, ...added].join("\n");
}

/** TCP sockets (any state, TIME_WAIT included) whose local address is the VIP. */
export async function vipSockets(): Promise<number> {
  const r = await execIn("director", ["ss", "-Htan", "src", VIP], { name: LAB });
  return r.stdout.split("\n").filter((l) => l.trim() !== "").length;
}
