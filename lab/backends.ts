// Which lab backend realises a lab: the one place that knows them all. Each backend registers
// a constructor here; every CLI verb (--backend) and the scenario runner go through
// createBackend and then only through the LabBackend interface (lab/backend.ts). A new
// backend is a folder beside netns/ and compose/ with a class implementing that interface,
// and one line in FACTORIES.
import type { BackendKind, LabBackend } from "./backend.ts";
import type { Topology } from "./topology.ts";
import { NetnsBackend } from "./netns/netns-backend.ts";
import { createComposeBackend } from "./compose/compose-backend.ts";

/** A backend for lab `name` realising `topology` (the default lab when absent). */
export type BackendFactory = (name: string, topology?: Topology) => LabBackend;

/** Backends this build knows. */
const FACTORIES: Partial<Record<BackendKind, BackendFactory>> = {
  netns: (name, topology) => new NetnsBackend(name, topology),
  compose: createComposeBackend,
};

export const BACKEND_KINDS: readonly BackendKind[] = ["netns", "compose"];

/** Kinds that createBackend can build in this build. */
export function availableBackends(): BackendKind[] {
  return BACKEND_KINDS.filter((k) => FACTORIES[k] !== undefined);
}

/**
 * The backend of that kind for lab `name` realising `topology` (default: the article's lab);
 * throws a sentence for an unknown or absent kind.
 */
export function createBackend(kind: string, name: string, topology?: Topology): LabBackend {
  if (!(BACKEND_KINDS as readonly string[]).includes(kind)) {
    throw new Error(
      `backend '${kind}' is unknown; use one of ${BACKEND_KINDS.join(", ")}`,
    );
  }
  const factory = FACTORIES[kind as BackendKind];
  if (!factory) {
    throw new Error(
      `backend '${kind}' is not available in this build; use one of ${
        availableBackends().join(", ")
      }`,
    );
  }
  return factory(name, topology);
}
