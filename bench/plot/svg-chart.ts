// Line and bar charts as SVG text, for the plots the bench writes beside its results (README
// shows them). One chart: a title, a y axis from zero with round ticks, evenly spaced x
// categories, axis titles with units, a legend, and each value printed by its point or bar.
// Hand-written on purpose: a few dozen elements need no plotting library.

export interface ChartSeries {
  name: string;
  /** One value per category; null: not measured (no point, the line breaks). */
  values: (number | null)[];
}

export interface ChartSpec {
  kind: "line" | "bar";
  title: string;
  /** What the categories are. */
  xLabel: string;
  /** What the values are, with their unit. */
  yLabel: string;
  categories: string[];
  series: ChartSeries[];
  /** Decimals of the printed values (default 0). */
  decimals?: number;
}

/** The canvas and the plot area's margins, in px. */
export const CHART_BOX = { width: 640, height: 400, left: 84, right: 24, top: 68, bottom: 64 };
const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];
/** Ticks on the y axis, about. */
const Y_TICKS = 5;
/** Share of a category's band the bars of a group take. */
const BAR_GROUP_SHARE = 0.7;

/** The y axis: ticks from 0 by a round step (1, 2, 2.5 or 5 × 10^k) up to at least `max`. */
export function yAxis(max: number): { top: number; step: number; ticks: number[] } {
  const target = max > 0 && Number.isFinite(max) ? max : 1;
  const raw = target / Y_TICKS;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw * (1 - 1e-9))!;
  const count = Math.ceil(target / step - 1e-9);
  const ticks = Array.from({ length: count + 1 }, (_, i) => roundTo(i * step, step));
  return { top: ticks[ticks.length - 1], step, ticks };
}

/** i × step without the float noise of 0.1 + 0.2. */
function roundTo(value: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 2);
  return Number(value.toFixed(decimals));
}

/** Where things go: the pixel of a value and of a category's centre. */
export interface ChartScale {
  y(value: number): number;
  x(category: number): number;
  /** Width of one category's band. */
  band: number;
  axis: { top: number; step: number; ticks: number[] };
}

export function chartScale(spec: ChartSpec): ChartScale {
  const { width, height, left, right, top, bottom } = CHART_BOX;
  const values = spec.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const max = Math.max(0, ...values);
  const axis = yAxis(max);
  const plotHeight = height - top - bottom;
  const band = (width - left - right) / Math.max(1, spec.categories.length);
  return {
    y: (value) => top + plotHeight * (1 - value / axis.top),
    x: (category) => left + band * (category + 0.5),
    band,
    axis,
  };
}

/** Text made safe for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

function formatValue(value: number, decimals: number): string {
  return value.toLocaleString("en-US", {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });
}

const px = (n: number) => n.toFixed(1);

function text(x: number, y: number, content: string, attrs = ""): string {
  return `<text x="${px(x)}" y="${px(y)}"${attrs ? ` ${attrs}` : ""}>${escapeXml(content)}</text>`;
}

/** Frame, grid, ticks and the two axis titles. */
function axes(spec: ChartSpec, scale: ChartScale): string[] {
  const { width, height, left, right, top, bottom } = CHART_BOX;
  const out: string[] = [];
  for (const tick of scale.axis.ticks) {
    const y = scale.y(tick);
    out.push(
      `<line class="grid" x1="${left}" y1="${px(y)}" x2="${width - right}" y2="${
        px(y)
      }" stroke="#e0e0e0"/>`,
      text(left - 8, y + 4, tick.toLocaleString("en-US"), 'text-anchor="end" class="y-tick"'),
    );
  }
  const baseline = height - bottom;
  out.push(
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${baseline}" stroke="#333"/>`,
    `<line x1="${left}" y1="${baseline}" x2="${width - right}" y2="${baseline}" stroke="#333"/>`,
  );
  spec.categories.forEach((c, i) => {
    out.push(text(scale.x(i), baseline + 18, c, 'text-anchor="middle" class="x-tick"'));
  });
  const plotMiddle = top + (height - top - bottom) / 2;
  out.push(
    text(
      left + (width - left - right) / 2,
      height - 14,
      spec.xLabel,
      'text-anchor="middle" class="x-label"',
    ),
    text(
      18,
      plotMiddle,
      spec.yLabel,
      `text-anchor="middle" class="y-label" transform="rotate(-90 18 ${px(plotMiddle)})"`,
    ),
  );
  return out;
}

function legend(spec: ChartSpec): string[] {
  let x: number = CHART_BOX.left;
  const y = 44;
  return spec.series.flatMap((s, i) => {
    const item = [
      `<rect x="${px(x)}" y="${y - 10}" width="12" height="12" fill="${
        PALETTE[i % PALETTE.length]
      }"/>`,
      text(x + 18, y, s.name, 'class="legend"'),
    ];
    x += 18 + 7 * s.name.length + 24; // about 7 px per character at 12 px
    return item;
  });
}

function valueLabel(x: number, y: number, value: number, decimals: number): string {
  return text(x, y - 8, formatValue(value, decimals), 'text-anchor="middle" class="value"');
}

function lines(spec: ChartSpec, scale: ChartScale): string[] {
  const decimals = spec.decimals ?? 0;
  return spec.series.flatMap((s, si) => {
    const color = PALETTE[si % PALETTE.length];
    const out: string[] = [];
    let run: string[] = [];
    const flush = () => {
      if (run.length > 1) {
        out.push(
          `<polyline fill="none" stroke="${color}" stroke-width="2" points="${run.join(" ")}"/>`,
        );
      }
      run = [];
    };
    s.values.forEach((v, i) => {
      if (v === null) return flush();
      const x = scale.x(i);
      const y = scale.y(v);
      run.push(`${px(x)},${px(y)}`);
      out.push(
        `<circle class="point" data-series="${escapeXml(s.name)}" data-value="${v}" cx="${
          px(x)
        }" cy="${px(y)}" r="4" fill="${color}"/>`,
        valueLabel(x, y, v, decimals),
      );
    });
    flush();
    return out;
  });
}

function bars(spec: ChartSpec, scale: ChartScale): string[] {
  const decimals = spec.decimals ?? 0;
  const group = scale.band * BAR_GROUP_SHARE;
  const width = group / Math.max(1, spec.series.length);
  const baseline = scale.y(0);
  return spec.series.flatMap((s, si) =>
    s.values.flatMap((v, i) => {
      if (v === null) return [];
      const x = scale.x(i) - group / 2 + si * width;
      const y = scale.y(v);
      return [
        `<rect class="bar" data-series="${escapeXml(s.name)}" data-value="${v}" x="${px(x)}" y="${
          px(y)
        }" width="${px(width - 2)}" height="${px(baseline - y)}" fill="${
          PALETTE[si % PALETTE.length]
        }"/>`,
        valueLabel(x + (width - 2) / 2, y, v, decimals),
      ];
    })
  );
}

/** The chart as a standalone SVG document. */
export function renderChart(spec: ChartSpec): string {
  for (const s of spec.series) {
    if (s.values.length !== spec.categories.length) {
      throw new Error(
        `chart '${spec.title}': series '${s.name}' has ${s.values.length} values for ${spec.categories.length} categories`,
      );
    }
  }
  const { width, height } = CHART_BOX;
  const scale = chartScale(spec);
  const body = [
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    text(CHART_BOX.left, 24, spec.title, 'font-size="16" font-weight="bold" class="title"'),
    ...legend(spec),
    ...axes(spec, scale),
    ...(spec.kind === "line" ? lines(spec, scale) : bars(spec, scale)),
  ];
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">
<title>${escapeXml(spec.title)}</title>
${body.join("\n")}
</svg>
`;
}
