// What several step kinds share: waiting, reading a program's log, one-line tallies, and the
// cross-checks of a step's service, sources and program.
import fs from "node:fs";
import { id } from "../fields.ts";
import type { StepCheckContext } from "./types.ts";

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** "a 1, b 2" sorted by key; "none" when empty. */
export function counts(record: Record<string, number>): string {
  const parts = Object.entries(record).sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k} ${v}`);
  return parts.length ? parts.join(", ") : "none";
}

/** Counts the keys `of` gives for the items. */
export function tally<T>(items: Iterable<T>, of: (item: T) => string): Record<string, number> {
  const t: Record<string, number> = {};
  for (const item of items) {
    const k = of(item);
    t[k] = (t[k] ?? 0) + 1;
  }
  return t;
}

/** Reads a log until a line starting with `prefix` appears; returns the rest of that line. */
export async function waitForLine(
  file: string,
  prefix: string,
  timeoutMs: number,
  exited: () => boolean,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let text = "";
    try {
      text = fs.readFileSync(file, "utf8");
    } catch {
      // Not there yet.
    }
    const line = text.split("\n").find((l) => l.startsWith(prefix));
    if (line !== undefined) return line.slice(prefix.length);
    if (exited() || Date.now() > deadline) {
      const tail = text.trim().split("\n").slice(-5).join("\n") || "(empty log)";
      throw new Error(
        `${
          exited() ? "it ended" : `nothing within ${timeoutMs} ms`
        } before printing '${prefix.trim()}'; ` +
          `its log ${file} ends with:\n${tail}`,
      );
    }
    await sleep(100);
  }
}

/** The sentence for a step aimed at a TCP port without a service. */
export function noTcpService(where: string, vip: string, vport: number): string {
  return `${where}: there is no tcp service ${vip}:${vport} in the service table`;
}

/** A TCP step (http, hold) needs a service at its VIP:port. */
export function requireTcpService(
  ctx: StepCheckContext,
  vip: string | undefined,
  vport: number,
  where: string,
  problems: string[],
): void {
  const addr = vip ?? ctx.scenario.vip;
  if (!ctx.services.has(`tcp ${addr}:${vport}`)) problems.push(noTcpService(where, addr, vport));
}

/** Source addresses a step names must be the client's. */
export function requireSources(
  ctx: StepCheckContext,
  sources: readonly string[],
  where: string,
  problems: string[],
): void {
  for (const a of sources) {
    if (!ctx.sources.has(a)) {
      problems.push(`${where}: source ${a} is not the client's address nor in clientAddresses`);
    }
  }
}

/** What stop and start share: `- <kind>: <program id>`, naming a program of the file. */
export function programStepParts<K extends "stop" | "start">(kind: K) {
  return {
    kind,
    schema: id,
    fromYaml: (value: unknown) => ({ kind, id: value as string }),
    check(step: { id: string }, ctx: StepCheckContext, where: string, problems: string[]) {
      if (!ctx.programIds.has(step.id)) {
        problems.push(`${where}: no program has id '${step.id}' (see programs:)`);
      }
    },
  };
}
