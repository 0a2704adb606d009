// The rewrite assertion: from the captures, every packet rewritten as NAT says (no private
// address on the client network, replies from VIP:port, checksums that verify) and, with
// twins, every packet matched by its twin across the director.
import { z } from "zod";
import { assertChecksums } from "../../assertions/checksums.ts";
import {
  assertNoPrivateAddresses,
  assertPrivateRewrite,
  assertRepliesFromVip,
  assertTwinsMatched,
} from "../../assertions/rewrite.ts";
import type { CheckResult } from "../checks.ts";
import {
  excuseCaptureLoss,
  hasPayloadHelper,
  looseWording,
  privatePacketsOf,
  withoutOtherPorts,
} from "./capture-context.ts";
import type { AssertionKindDef } from "./types.ts";

const schema = z.strictObject({
  /** Check that every packet has its twin across the director; off where it drops on purpose. */
  twins: z.boolean().default(true),
}).nullable().default({ twins: true });

export type RewriteSpec = { kind: "rewrite"; twins?: boolean };

export const rewriteAssertion: AssertionKindDef<RewriteSpec> = {
  kind: "rewrite",
  description: "every captured packet rewritten correctly, with its twin across the director",
  schema,
  judgeCapture(spec, ctx) {
    const { scenario, publicPackets, privatePackets, publicConns, privateConns, lost } = ctx;
    const out: CheckResult[] = [
      assertNoPrivateAddresses(publicPackets),
      assertChecksums(publicPackets, "client network"),
      assertChecksums(privatePackets, "private network"),
    ];
    for (const s of ctx.used) {
      out.push(assertRepliesFromVip(withoutOtherPorts(publicPackets, s), s));
      const own = privatePacketsOf(privateConns, publicConns, s);
      out.push(assertPrivateRewrite(own, publicPackets, s));
      if (spec.twins !== false) {
        const matched = assertTwinsMatched(ctx.twinsFor(s), s);
        // Required-complete captures excuse nothing (their loss fails on its own).
        const twins = scenario.captureComplete ? matched : excuseCaptureLoss(matched, lost);
        out.push(hasPayloadHelper(s) ? looseWording(twins) : twins);
      }
    }
    return out;
  },
};
