// The registry of the lab's topologies: one file per topology in this folder, one line in
// TOPOLOGIES. `lvslab up --topology <name>` and the tests find them here; every backend
// realises any of them from the data alone (lab/topology.ts is the model).
//   A new topology (DR, TUN next): a file here returning a Topology, and one line below.
import type { Topology } from "../topology.ts";
import { drTopology } from "./dr.ts";
import { defaultTopology } from "./nat.ts";
import { routedTopology } from "./routed.ts";

export interface TopologyEntry {
  /** One line for help texts. */
  summary: string;
  build: () => Topology;
}

export const TOPOLOGIES: Record<string, TopologyEntry> = {
  nat: { summary: "VS/NAT, the LVS article's example (the default lab)", build: defaultTopology },
  routed: {
    summary: "a router between a client network, a public LAN and two private ones; no director",
    build: routedTopology,
  },
  dr: {
    summary: "VS/DR: a router, one LAN shared by the director and the real servers",
    build: drTopology,
  },
};

export const DEFAULT_TOPOLOGY = "nat";

/** The topology registered under `name`; throws a sentence naming those there are. */
export function topologyNamed(name: string): Topology {
  const entry = Object.hasOwn(TOPOLOGIES, name) ? TOPOLOGIES[name] : undefined;
  if (!entry) {
    throw new Error(
      `topology '${name}' is unknown; use one of ${Object.keys(TOPOLOGIES).join(", ")}`,
    );
  }
  return entry.build();
}
