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
