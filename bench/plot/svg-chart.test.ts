import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { CHART_BOX, type ChartSpec, escapeXml, renderChart, yAxis } from "./svg-chart.ts";
import { requireRoot } from "../../lab/testing/require-root.ts";

const LINE: ChartSpec = {
  kind: "line",
  title: "Latency <p99> & p50",
  xLabel: "entries in the table",
  yLabel: "latency (ms)",
  categories: ["0", "100k", "1M"],
  series: [
    { name: "p50", values: [1, 2, 4] },
    { name: "p99", values: [2, null, 8] },
  ],
  decimals: 1,
};

const BAR: ChartSpec = {
  kind: "bar",
  title: "Memory per entry",
  xLabel: "entries",
  yLabel: "bytes per entry (B)",
  categories: ["1M", "4M"],
  series: [{ name: "heap", values: [100, 50] }, { name: "RSS", values: [80, 25] }],
};

/** Every element of a kind, its attributes as a record. */
function elements(svg: string, tag: string): Record<string, string>[] {
  return [...svg.matchAll(new RegExp(`<${tag}\\b([^>]*)/?>`, "g"))].map((m) =>
    Object.fromEntries([...m[1].matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]]))
  );
}

function texts(svg: string, cls: string): string[] {
  return [...svg.matchAll(new RegExp(`<text[^>]*class="${cls}"[^>]*>([^<]*)</text>`, "g"))]
    .map((m) => m[1]);
}

const plotBottom = CHART_BOX.height - CHART_BOX.bottom;
const plotHeight = plotBottom - CHART_BOX.top;

test("y axis: round steps from zero, up to at least the largest value", () => {
  assert.deepEqual(yAxis(8), { top: 8, step: 2, ticks: [0, 2, 4, 6, 8] });
  assert.deepEqual(yAxis(9.1).ticks, [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(yAxis(6_990), {
    top: 8_000,
    step: 2_000,
    ticks: [0, 2_000, 4_000, 6_000, 8_000],
  });
  assert.deepEqual(yAxis(11), { top: 12.5, step: 2.5, ticks: [0, 2.5, 5, 7.5, 10, 12.5] });
  assert.deepEqual(yAxis(0.3).ticks, [0, 0.1, 0.2, 0.3]);
  assert.deepEqual(yAxis(0).ticks, [0, 0.2, 0.4, 0.6, 0.8, 1], "nothing measured: 0 to 1");
});

test("line chart: each point where its value and category put it", () => {
  const svg = renderChart(LINE);
  const points = elements(svg, "circle");
  assert.equal(points.length, 5, "the null value has no point");
  const band = (CHART_BOX.width - CHART_BOX.left - CHART_BOX.right) / 3;
  for (const p of points) {
    const value = Number(p["data-value"]);
    // The axis runs 0..8 (yAxis(8)).
    assert.equal(Number(p.cy), Number((plotBottom - plotHeight * value / 8).toFixed(1)));
  }
  const p99 = points.filter((p) => p["data-series"] === "p99");
  assert.deepEqual(p99.map((p) => Number(p.cx)), [
    Number((CHART_BOX.left + band * 0.5).toFixed(1)),
    Number((CHART_BOX.left + band * 2.5).toFixed(1)),
  ]);
  assert.equal(Number(p99[1].cy), CHART_BOX.top, "the largest value is at the top of the axis");
  // p50 is one line of three points; p99's gap leaves two single points, no line.
  const polylines = elements(svg, "polyline");
  assert.equal(polylines.length, 1);
  assert.equal(polylines[0].points.split(" ").length, 3);
});

test("labels: title, axis titles, ticks, legend and values, escaped", () => {
  const svg = renderChart(LINE);
  assert.deepEqual(texts(svg, "title"), ["Latency &lt;p99&gt; &amp; p50"]);
  assert.match(svg, /<title>Latency &lt;p99&gt; &amp; p50<\/title>/);
  assert.deepEqual(texts(svg, "x-tick"), ["0", "100k", "1M"]);
  assert.deepEqual(texts(svg, "y-tick"), ["0", "2", "4", "6", "8"]);
  assert.deepEqual(texts(svg, "x-label"), ["entries in the table"]);
  assert.deepEqual(texts(svg, "y-label"), ["latency (ms)"]);
  assert.deepEqual(texts(svg, "legend"), ["p50", "p99"]);
  assert.deepEqual(texts(svg, "value"), ["1.0", "2.0", "4.0", "2.0", "8.0"]);
  assert.equal(escapeXml(`a<b & "c" 'd'>`), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
});

test("bar chart: bars stand on the axis, heights in proportion, groups side by side", () => {
  const svg = renderChart(BAR);
  const bars = elements(svg, "rect").filter((r) => r.class === "bar");
  assert.equal(bars.length, 4);
  for (const b of bars) {
    // The axis runs 0..100.
    assert.equal(Number(b.y) + Number(b.height), plotBottom);
    assert.ok(Math.abs(Number(b.height) - plotHeight * Number(b["data-value"]) / 100) < 0.11);
  }
  const [heap1M, , rss1M] = bars;
  assert.ok(Number(rss1M.x) > Number(heap1M.x), "RSS beside heap in one group");
  assert.ok(Number(rss1M.x) < Number(bars[1].x), "the 1M group before the 4M group");
  assert.deepEqual(texts(svg, "value"), ["100", "50", "80", "25"]);
});

test("a series that does not fit the categories is refused", () => {
  assert.throws(
    () => renderChart({ ...BAR, series: [{ name: "x", values: [1] }] }),
    /series 'x' has 1 values for 2 categories/,
  );
});

function xmllintBlocker(): string | null {
  const r = spawnSync("xmllint", ["--version"], { encoding: "utf8" });
  return r.error
    ? "xmllint is missing (Debian's libxml2-utils; scripts/ensure-deps.sh installs it)"
    : null;
}

test("the SVG is well-formed XML (xmllint)", (t) => {
  if (!requireRoot(t, xmllintBlocker())) return;
  for (const spec of [LINE, BAR]) {
    const r = spawnSync("xmllint", ["--noout", "-"], {
      input: renderChart(spec),
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
  }
  const broken = spawnSync("xmllint", ["--noout", "-"], { input: "<svg><text>a & b</text></svg>" });
  assert.notEqual(broken.status, 0, "xmllint does refuse a malformed document");
});
