// Where a scaling result goes: bench/results/scaling/<date>.json (each round's samples),
// latest.md (the markdown) and one SVG per plot under a stable name, so README can show them.
import fs from "node:fs";
import path from "node:path";
import { renderChart } from "../plot/svg-chart.ts";
import { scalingCharts } from "./plots.ts";
import { renderScalingReport } from "./report.ts";
import type { ScalingResult } from "../types.ts";

/** The folder under the results folder. */
export const SCALING_DIR = "scaling";

/** Writes the plots into <out>/scaling/ and records their names in the result. */
function writePlots(result: ScalingResult, dir: string): void {
  result.plots = scalingCharts(result).map(({ file, spec }) => {
    fs.writeFileSync(path.join(dir, file), renderChart(spec));
    return file;
  });
}

/** Writes the JSON, the markdown and the plots; returns the markdown. */
export function writeScalingResult(
  result: ScalingResult,
  out: string,
  log: (line: string) => void,
): string {
  const dir = path.join(out, SCALING_DIR);
  fs.mkdirSync(dir, { recursive: true });
  writePlots(result, dir);
  const markdown = renderScalingReport(result);
  const json = path.join(dir, `${result.date.replace(/[:.]/g, "-")}.json`);
  fs.writeFileSync(json, JSON.stringify(result, null, 2) + "\n");
  fs.writeFileSync(path.join(dir, "latest.md"), markdown);
  log(`wrote ${json}, latest.md and ${result.plots.length} plots in ${dir}`);
  return markdown;
}

/** --from a saved scaling result: its plots and latest.md again; returns what to print. */
export function renderScalingFrom(saved: ScalingResult, out: string, json: boolean): string {
  const dir = path.join(out, SCALING_DIR);
  fs.mkdirSync(dir, { recursive: true });
  writePlots(saved, dir);
  const markdown = renderScalingReport(saved);
  fs.writeFileSync(path.join(dir, "latest.md"), markdown);
  return json ? JSON.stringify(saved, null, 2) + "\n" : markdown;
}
