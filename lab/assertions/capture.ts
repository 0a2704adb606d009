// Whether the captures themselves can be trusted: a capture that lost packets makes every
// other assertion about "every packet" meaningless.
import type { CaptureFile } from "../capture/capture.ts";
import { type AssertionResult, verdict } from "./result.ts";

/**
 * PASS when tcpdump reported no packet dropped by the kernel on any segment. With
 * `requireCounts` (a scenario's capture: { complete: true }), a segment tcpdump gave no
 * counts for fails too: nothing shows that capture complete.
 */
export function assertCapturesComplete(
  files: readonly CaptureFile[],
  options: { name?: string; requireCounts?: boolean } = {},
): AssertionResult {
  const name = options.name ?? "captures are complete";
  const lossy = files.filter((f) => (f.droppedByKernel ?? 0) > 0);
  const unknown = files.filter((f) => f.droppedByKernel === null);
  const details = files.map((f) =>
    `${f.segment} (${f.host} ${f.device}): ${f.packetsCaptured ?? "?"} captured, ` +
    `${f.droppedByKernel ?? "?"} dropped by the kernel, in ${f.path}`
  );
  const data = { files: files.map((f) => ({ ...f })) };
  if (files.length === 0) return verdict(name, false, "no capture files were made", [], data);
  if (lossy.length > 0) {
    const what = lossy.map((f) => `${f.droppedByKernel} on ${f.segment}`).join(", ");
    return verdict(
      name,
      false,
      `the captures lost packets (${what}), so checks over every packet are incomplete`,
      details,
      data,
    );
  }
  if (options.requireCounts && unknown.length > 0) {
    return verdict(
      name,
      false,
      `tcpdump gave no counts for ${
        unknown.map((f) => f.segment).join(", ")
      }, so those captures cannot be shown complete`,
      details,
      data,
    );
  }
  const note = unknown.length > 0
    ? ` (tcpdump gave no counts for ${unknown.map((f) => f.segment).join(", ")})`
    : "";
  return verdict(
    name,
    true,
    `the captures on ${files.map((f) => f.segment).join(", ")} lost no packets${note}`,
    details,
    data,
  );
}
