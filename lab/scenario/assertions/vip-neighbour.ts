// The vip-neighbour assertion: after an arp step's relearn, the host (the router) holds the
// owner's MAC for the VIP (the director's, when only it answers ARP for the VIP), and, with
// `answered`, exactly those hosts answered its ARP request.
import { z } from "zod";
import { missing, result } from "../checks.ts";
import { id } from "../fields.ts";
import { macOwner } from "../../vip-neighbour.ts";
import type { AssertionKindDef } from "./types.ts";

const hostName = z.string().regex(/^[a-z][a-z0-9]{0,11}$/, { message: "a host name like rs1" });

const schema = z.strictObject({
  /** An arp step with relearn. */
  step: id,
  /** The host whose LAN MAC the entry must hold, e.g. director or rs1. */
  owner: hostName,
  /** Exactly these hosts answered the ARP request (needs arping in the relearning host). */
  answered: z.array(hostName).max(16).optional(),
});

export type VipNeighbourSpec = { kind: "vip-neighbour" } & z.infer<typeof schema>;

export const vipNeighbourAssertion: AssertionKindDef<VipNeighbourSpec> = {
  kind: "vip-neighbour",
  description: "after an arp step's relearn the host holds the owner's MAC for the VIP " +
    "(and exactly the given hosts answered)",
  schema,
  stepKinds: ["arp"],
  judgeClient(spec, { outputs }) {
    const name = `VIP neighbour of '${spec.step}'`;
    const out = outputs.get(spec.step);
    if (!out || out.kind !== "arp") return missing(name, spec.step);
    const found = out.data;
    const want = found.macs[spec.owner];
    const holder = found.mac === null ? "nothing" : macOwner(found, found.mac);
    const answers = found.answers?.map((m) => macOwner(found, m)).sort() ?? null;
    const details = [
      `${found.host} ${found.device}: ${found.vip} → ${found.mac ?? "(none)"} ` +
      `${found.state.join(",")}`,
      ...Object.entries(found.macs).map(([h, m]) => `${h} ${m}`),
    ];
    if (want === undefined) {
      return result(name, false, `${name}: '${spec.owner}' has no interface on that segment`);
    }
    let ok = found.mac === want;
    let sentence = `${found.host} holds ${holder}'s MAC for ${found.vip} (want ${spec.owner}'s)`;
    if (spec.answered !== undefined) {
      const wanted = [...spec.answered].sort();
      ok &&= answers !== null && JSON.stringify(answers) === JSON.stringify(wanted);
      sentence += answers === null
        ? "; who answered is unknown (no arping in the host)"
        : `; answered by ${answers.join(", ") || "nobody"} (want ${wanted.join(", ")})`;
    }
    return result(name, ok, sentence, details, { mac: found.mac, answers });
  },
};
