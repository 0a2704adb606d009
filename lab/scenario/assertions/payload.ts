// The payload assertion: texts that must be, or must not be, in the payload of one network's
// captured packets (lab/assertions/payload.ts).
import { z } from "zod";
import { assertPayload } from "../../assertions/payload.ts";
import { port } from "../fields.ts";
import type { AssertionKindDef } from "./types.ts";

const schema = z.strictObject({
  /** Which capture: the client network ("public") or the private network. */
  segment: z.enum(["public", "private"]),
  /** Only packets from or to this port (21: FTP control connections). */
  port: port.optional(),
  /** Texts that must each be in at least `min` packets. */
  present: z.array(z.string().min(1)).default([]),
  /** Texts no packet may carry. */
  absent: z.array(z.string().min(1)).default([]),
  min: z.number().int().min(1).default(1),
});

export type PayloadSpec = { kind: "payload" } & z.infer<typeof schema>;

export const payloadAssertion: AssertionKindDef<PayloadSpec> = {
  kind: "payload",
  description: "texts present in, or absent from, one network's captured payloads",
  schema,
  check(spec, _ctx, where, problems) {
    if (spec.present.length === 0 && spec.absent.length === 0) {
      problems.push(`${where}: give the texts that must be present, absent, or both`);
    }
  },
  judgeCapture: (spec, { publicPackets, privatePackets }) =>
    assertPayload(spec.segment === "public" ? publicPackets : privatePackets, {
      present: spec.present,
      absent: spec.absent,
      min: spec.min,
      port: spec.port,
      network: spec.segment === "public" ? "client network" : "private network",
    }),
};
