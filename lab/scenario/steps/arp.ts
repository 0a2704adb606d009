// The arp step: VS/DR's ARP problem on demand. `recipe: off` turns a real server's ARP recipe
// off (arp_ignore/arp_announce 0 on all and its interfaces: it answers ARP for the VIP on its
// lo like any address), `on` restores it (1/2); `relearn: router` makes that host forget its
// neighbour entry for the VIP and ask again, leaving what it learnt (and who answered) under
// the step's id for the vip-neighbour assertion.
import { z } from "zod";
import { DEFAULT_TOPOLOGY, topologyNamed } from "../../topologies/index.ts";
import type { Topology } from "../../topology.ts";
import { macOwner, relearnVip, setArpRecipe, type VipNeighbour } from "../../vip-neighbour.ts";
import { id } from "../fields.ts";
import type { Scenario } from "../schema.ts";
import type { StepKindDef } from "./types.ts";

const hostName = z.string().regex(/^[a-z][a-z0-9]{0,11}$/, { message: "a host name like rs1" });

const schema = z.strictObject({
  /** Names the relearnt entry (with relearn) for vip-neighbour assertions. */
  id: id.optional(),
  /** The real server whose recipe `recipe` sets. */
  host: hostName.optional(),
  recipe: z.enum(["on", "off"]).optional(),
  /** The host (the router) that forgets and relearns who holds the VIP, after `recipe`. */
  relearn: hostName.optional(),
});

export type ArpStep = z.infer<typeof schema> & { kind: "arp" };
export type ArpOutput = { kind: "arp"; data: VipNeighbour };

/** The scenario's lab ("default": the article's). */
function labTopology(scenario: Pick<Scenario, "topology">): Topology {
  const name: string = scenario.topology;
  return topologyNamed(name === "default" ? DEFAULT_TOPOLOGY : name);
}

export const arpStep: StepKindDef<ArpStep, ArpOutput> = {
  kind: "arp",
  description: "turns a real server's ARP recipe off or on; a host (the router) relearns the " +
    "VIP's MAC",
  schema,
  leavesResult: true,
  check(step, ctx, where, problems) {
    if ((step.host === undefined) !== (step.recipe === undefined)) {
      problems.push(`${where}: host and recipe go together (host: rs1, recipe: off)`);
    }
    if (step.recipe === undefined && step.relearn === undefined) {
      problems.push(`${where}: give recipe (with host), relearn, or both`);
    }
    if (step.id !== undefined && step.relearn === undefined) {
      problems.push(`${where}: an id names a relearnt entry; add relearn: <host>`);
    }
    const hosts = labTopology(ctx.scenario).hosts;
    const rs = hosts.find((h) => h.name === step.host);
    if (step.host !== undefined && rs?.role !== "realserver") {
      problems.push(`${where}: '${step.host}' is not a real server of the lab`);
    }
    if (step.relearn !== undefined && !hosts.some((h) => h.name === step.relearn)) {
      problems.push(`${where}: no host '${step.relearn}' in the lab`);
    }
  },
  async run(step, ctx) {
    const topology = labTopology(ctx.scenario);
    const said: string[] = [];
    if (step.host !== undefined && step.recipe !== undefined) {
      await setArpRecipe(ctx.backend, topology, step.host, step.recipe);
      said.push(`${step.host}'s ARP recipe ${step.recipe}`);
    }
    if (step.relearn !== undefined) {
      const data = await relearnVip(ctx.backend, topology, step.relearn);
      ctx.note(step.id, { kind: "arp", data });
      const holder = data.mac === null ? "nobody" : macOwner(data, data.mac);
      const answered = data.answers === null
        ? ""
        : `; answered by ${data.answers.map((m) => macOwner(data, m)).join(", ") || "nobody"}`;
      said.push(`${step.relearn} holds ${holder}'s MAC for ${data.vip}${answered}`);
    }
    return said.join("; ");
  },
};
