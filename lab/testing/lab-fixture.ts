// The lab a test file runs against: brought up before its tests (after removing whatever a
// crashed run left under that name) and down after them, with a scratch directory for
// logs. Nothing happens where lab tests cannot run (the tests then skip or, in CI, fail).
import { after, before } from "node:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { labDown, labUp, type LabUpOptions } from "../netns/lab.ts";
import { labTestBlocker } from "./require-root.ts";

export interface LabFixture {
  name: string;
  /** A fresh temporary directory (set once the lab is up). */
  readonly workDir: string;
}

/** Registers before/after hooks that bring lab `name` up and down around the file's tests. */
export function useLab(name: string, options: Omit<LabUpOptions, "name"> = {}): LabFixture {
  const canRun = labTestBlocker() === null;
  let workDir = "";
  before(async () => {
    if (!canRun) return;
    await labDown(name);
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), `lvslab-${name}-`));
    await labUp({ ...options, name });
  });
  after(async () => {
    if (canRun) await labDown(name);
  });
  return {
    name,
    get workDir() {
      return workDir;
    },
  };
}
