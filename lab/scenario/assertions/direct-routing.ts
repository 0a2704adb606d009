// The direct-routing assertion (VS/DR): from the captures, every client packet the director
// took left it in a frame from its MAC to the MAC of the real server holding the connection,
// unchanged but for TTL (one less) and the header checksum, and no reply passed it.
import { z } from "zod";
import {
  assertDrForwarded,
  assertDrFrames,
  assertNoReplyThroughDirector,
} from "../../assertions/direct-routing.ts";
import { verdict } from "../../assertions/result.ts";
import { repliesBypassDirector } from "../../capture/segments.ts";
import { scenarioTopology } from "../topology.ts";
import { excuseCaptureLoss } from "./capture-context.ts";
import type { AssertionKindDef } from "./types.ts";

export type DirectRoutingSpec = { kind: "direct-routing" };

export const directRoutingAssertion: AssertionKindDef<DirectRoutingSpec> = {
  kind: "direct-routing",
  description:
    "VS/DR: each client packet leaves the director unchanged but for TTL, to the MAC of its " +
    "real server; no reply passes it",
  schema: z.strictObject({}).nullable().default({}),
  check(_spec, ctx, where, problems) {
    if (!repliesBypassDirector(scenarioTopology(ctx.scenario))) {
      problems.push(
        `${where}: topology '${ctx.scenario.topology}' sends replies through the director; ` +
          "direct-routing needs a DR lab (topology: dr)",
      );
    }
  },
  judgeCapture(_spec, ctx) {
    if (!ctx.dr) {
      return [verdict("direct-routing", false, "the captures hold no DR path to judge")];
    }
    const forwarded = assertDrForwarded(ctx.dr);
    return [
      ctx.scenario.captureComplete ? forwarded : excuseCaptureLoss(forwarded, ctx.lost),
      assertDrFrames(ctx.dr),
      assertNoReplyThroughDirector(ctx.dr),
    ];
  },
};
