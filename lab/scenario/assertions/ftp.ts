// The ftp assertion: an ftp step's transfers arrived intact, over the expected control
// connections, and in plain passive mode every 227 reply named the VIP.
import { z } from "zod";
import { type CheckResult, missing, result } from "../checks.ts";
import { id } from "../fields.ts";
import { type FtpSummary, sizeText } from "../ftp-step.ts";
import type { AssertionKindDef, ClientContext } from "./types.ts";

const schema = z.strictObject({
  step: id,
  /** The control connections curl opened for all the step's transfers (1: one, reused). */
  controlConnections: z.number().int().min(1).optional(),
  /** Fewest transfers the step must have carried. */
  minTransfers: z.number().int().min(1).default(1),
});

export type FtpSpec = { kind: "ftp" } & z.infer<typeof schema>;

/**
 * An ftp step's transfers: enough of them, every one with the same sha256 at both ends, over
 * the given number of control connections, and in plain passive mode every 227 reply curl
 * got names the VIP (the director rewrote the real server's address).
 */
function judge(spec: FtpSpec, { outputs }: ClientContext): CheckResult {
  const name = `ftp transfers of '${spec.step}'`;
  const out = outputs.get(spec.step);
  if (!out || out.kind !== "ftp") return missing(name, spec.step);
  const s: FtpSummary = out.data;
  const parts: string[] = [];
  let ok = true;
  const n = s.transfers.length;
  const bad = s.transfers.filter((t) => t.outcome !== "intact");
  if (n < spec.minTransfers) {
    ok = false;
    parts.push(`only ${n} transfers (expected at least ${spec.minTransfers})`);
  }
  if (bad.length) {
    ok = false;
    parts.push(
      `${bad.length} of ${n} transfers did not arrive intact (${s.outcomes.corrupted} with ` +
        `another sha256, ${s.outcomes.failed} missing; curl exit ${s.curlExit})`,
    );
  } else {
    parts.push(`all ${n} transfers arrived with the same sha256 at both ends`);
  }
  if (spec.controlConnections !== undefined) {
    const good = s.controlConnections === spec.controlConnections;
    if (!good) ok = false;
    parts.push(
      `over ${s.controlConnections} control connection(s)${
        good ? "" : ` (expected ${spec.controlConnections})`
      }, ${s.reused} reused`,
    );
  }
  if (s.mode === "passive" && !s.extended) {
    const good = s.replies.pasvToVip >= n && s.replies.pasvToVip === s.replies.pasv;
    if (!good) ok = false;
    parts.push(
      `${s.replies.pasvToVip} of ${s.replies.pasv} 227 replies named the VIP${
        good ? "" : ` (expected one per transfer, all naming the VIP)`
      }`,
    );
  }
  // The transfers that went wrong first, then the rest.
  const detail = [...bad, ...s.transfers.filter((t) => t.outcome === "intact")].map((t) =>
    `#${t.index} ${t.direction} ${sizeText(t.size)} ${t.remote}: ${t.outcome}` +
    (t.outcome === "intact" ? "" : ` (sent ${t.sent ?? "?"}, received ${t.received ?? "nothing"})`)
  );
  return result(
    name,
    ok,
    `${s.mode}${s.extended ? " extended" : ""} FTP to ${s.target}, step '${spec.step}': ${
      parts.join("; ")
    }`,
    detail.length > 12 ? [...detail.slice(0, 12), `... and ${detail.length - 12} more`] : detail,
    { transfers: n, ...s.outcomes, controlConnections: s.controlConnections, reused: s.reused },
  );
}

export const ftpAssertion: AssertionKindDef<FtpSpec> = {
  kind: "ftp",
  description: "an ftp step's transfers arrived with the same sha256 at both ends",
  schema,
  stepKinds: ["ftp"],
  judgeClient: judge,
};
