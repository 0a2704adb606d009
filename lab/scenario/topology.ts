// The lab a scenario runs on: its file's `topology` (a name in lab/topologies/index.ts;
// "default" is the article's lab). The runner brings that topology up, the steps and checks
// find hosts and addresses in it.
import type { Topology } from "../topology.ts";
import { DEFAULT_TOPOLOGY, TOPOLOGIES, topologyNamed } from "../topologies/index.ts";

/** What a scenario's `topology` may say: "default" or a registered name. */
export const SCENARIO_TOPOLOGIES: readonly [string, ...string[]] = [
  "default",
  ...Object.keys(TOPOLOGIES),
];

/** The registered name a scenario's `topology` stands for. */
export function topologyName(topology: string): string {
  return topology === "default" ? DEFAULT_TOPOLOGY : topology;
}

/** The topology of a scenario (built anew: callers may not share one). */
export function scenarioTopology(s: { readonly topology: string }): Topology {
  return topologyNamed(topologyName(s.topology));
}
