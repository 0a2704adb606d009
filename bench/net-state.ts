// What the peers change in the lab's hosts (the director's rules, routes, addresses,
// nftables, listening sockets and reverse-path filters; the real servers' addresses, devices
// (VS/TUN's decapsulator's) and the VS/DR recipe's sysctls; the client's route to the VIP,
// whose path MTU VS/TUN lowers), captured before and after each peer so a setup that was not
// undone fails the run instead of skewing the next peer's numbers.
import { execIn } from "../lab/netns/lab.ts";
import { LAB, VIP } from "./config.ts";

const PROBES: Record<string, string[][]> = {
  client: [["ip", "-4", "route", "get", VIP]],
  director: [
    ["ip", "-4", "rule", "show"],
    ["ip", "-4", "route", "show", "table", "all"],
    ["ip", "-4", "-o", "addr", "show"],
    ["nft", "list", "ruleset"],
    ["ss", "-Hltnu"],
    ["sysctl", "net.ipv4.conf.all.rp_filter", "net.ipv4.conf.eth1.rp_filter"],
  ],
  ...Object.fromEntries(["rs1", "rs2"].map((host) => [host, [
    ["ip", "-4", "-o", "addr", "show"],
    ["ip", "-o", "link", "show"],
    [
      "sysctl",
      "net.ipv4.conf.all.arp_ignore",
      "net.ipv4.conf.all.arp_announce",
      "net.ipv4.conf.all.rp_filter",
      "net.ipv4.conf.eth0.rp_filter",
    ],
  ]])),
};

/** Every probe's output, each line prefixed with its host (so equal lines of two hosts differ). */
export async function labNetState(): Promise<string> {
  const parts: string[] = [];
  for (const [host, probes] of Object.entries(PROBES)) {
    for (const argv of probes) {
      const r = await execIn(host, argv, { name: LAB });
      const lines = [`$ ${argv.join(" ")}`, ...r.stdout.trim().split("\n")];
      parts.push(...lines.map((line) => `${host}: ${line}`));
    }
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
