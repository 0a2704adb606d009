// The parts of a LabBackend a test's fake does not use (the CLI's status, teardown and
// interactive exec): spread into a fake so it satisfies the interface and fails loudly if used.
import type { LabBackend } from "../backend.ts";

const unused = (what: string) => () =>
  Promise.reject(new Error(`${what} is not part of this fake`));

export const UNUSED_BACKEND_PARTS: Pick<
  LabBackend,
  "label" | "teardown" | "status" | "execInteractive"
> = {
  label: "a test's fake backend",
  teardown: unused("teardown"),
  status: unused("status"),
  execInteractive: unused("execInteractive"),
};

/** A netns-kind fake whose hosts run commands through `exec`; the rest does nothing or fails. */
export function fakeExecBackend(exec: LabBackend["exec"]): LabBackend {
  return {
    ...UNUSED_BACKEND_PARTS,
    kind: "netns",
    name: "fake",
    up: () => Promise.resolve(),
    down: () => Promise.resolve(),
    isUp: () => Promise.resolve(true),
    spawn: () => Promise.reject(new Error("spawn is not part of this fake")),
    copyOut: () => Promise.resolve(),
    program: (s, a) => [s, ...a],
    exec,
  };
}
