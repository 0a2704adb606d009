// The zod pieces scenario files share: ids, ports, addresses, bounded numbers. The file's own
// schema (schema.ts), every step kind (steps/) and every assertion kind (assertions/) build
// on these, so one field reads and fails the same way everywhere.
import { z } from "zod";

export const id = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, {
  message: "an id is 1-32 lower-case letters, digits and dashes, starting with a letter",
});
export const port = z.number().int().min(1).max(65535);
export const ipv4 = z.ipv4({ message: "must be an IPv4 address like 203.0.113.5" });
export const ms = (max: number) => z.number().int().min(0).max(max);
export const count = (max: number) => z.number().int().min(1).max(max);
/** "rs1" or "172.16.0.2:80" → count. */
export const serverCounts = z.record(z.string(), z.number().int().min(0));
/** Bounds on a tally (servers, results, held): each key → count. */
export const bounds = {
  exactly: serverCounts.optional(),
  atLeast: serverCounts.optional(),
  atMost: serverCounts.optional(),
};
