// The registry of the lab's topologies: one file per topology in this folder, one line in
// TOPOLOGIES. `lvslab up --topology <name>` and the tests find them here; every backend
// realises any of them from the data alone (lab/topology.ts is the model).
//   A new topology: a file here returning a Topology, and one line below.
import type { Topology } from "../topology.ts";
import { drTopology } from "./dr.ts";
import { defaultTopology } from "./nat.ts";
import { routedTopology } from "./routed.ts";
import { tunTopology } from "./tun.ts";

export interface TopologyEntry {
  /** One line for help texts. */
  summary: string;
  build: () => Topology;
}

export const TOPOLOGIES: Record<string, TopologyEntry> = {
  nat: { summary: "VS/NAT, the LVS article's example (the default lab)", build: defaultTopology },
  dr: {
    summary: "VS/DR: a router, and one LAN shared by the director and the real servers",
    build: drTopology,
  },
  tun: {
    summary: "VS/TUN: a router; the director and each real server on a network of its own",
    build: tunTopology,
  },
  routed: {
    summary: "a router between a client network, a public LAN and two private ones; no director",
    build: routedTopology,
  },
};

export const DEFAULT_TOPOLOGY = "nat";

/**
 * The lab of each forwarding method (`--method`): the topology that shows it. One line per
 * method.
 */
export const METHOD_TOPOLOGIES: Readonly<Record<string, string>> = {
  nat: "nat",
  dr: "dr",
  tun: "tun",
};

/** The method whose lab `topology` is, or null (a topology that shows none, e.g. routed). */
export function methodOf(topology: string): string | null {
  return Object.entries(METHOD_TOPOLOGIES).find(([, t]) => t === topology)?.[0] ?? null;
}

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
