import { md, mermaidLabel } from "../core/markdown-escape.js";
import { pct, round, signed } from "./format.js";
import { DEFAULT_TOLERANCE } from "./gate.js";
import { METRICS } from "./inputs.js";
import type { MetricValues } from "./report-data.js";

/** How many of the newest releases the trend shows before this run. */
export const TREND_RELEASES = 5;

/** One column of the trend: a release's benchmark.json, or this run's. */
export interface TrendPoint {
  label: string;
  metrics: MetricValues;
}

/**
 * The chart's line colours (Mermaid's plotColorPalette, in series order) and the coloured square
 * that stands for each in the table: Mermaid's xychart draws no legend.
 */
const SERIES: ReadonlyArray<readonly [string, string]> = [
  ["🟦", "#2563eb"],
  ["🟧", "#f97316"],
  ["🟩", "#16a34a"],
  ["🟪", "#9333ea"],
  ["🟥", "#dc2626"],
  ["🟨", "#eab308"],
  ["🟫", "#92400e"],
];

/**
 * The contract's metrics over the last releases (oldest first) and this run: a Mermaid line chart of
 * the metrics every point measured, and a table with the change since the oldest release, flagged
 * where it fell by more than the regression tolerance.
 */
export function trendSection(
  releases: readonly TrendPoint[],
  current: TrendPoint,
  tolerance: Record<string, number> = {},
): string {
  const points = [...releases, current];
  const metrics = METRICS.filter((m) => points.some((p) => typeof p.metrics[m] === "number"));
  const charted = metrics.filter((m) => points.every((p) => typeof p.metrics[m] === "number")).slice(0, SERIES.length);
  const first = releases[0]!;
  const lines = [
    `### Trend: the last ${releases.length === 1 ? "release" : `${releases.length} releases`} and ${md(current.label, 40)}`,
  ];
  if (charted.length > 0) {
    lines.push(
      "",
      "```mermaid",
      "---",
      "config:",
      "  themeVariables:",
      "    xyChart:",
      `      plotColorPalette: "${charted.map((_, i) => SERIES[i]![1]).join(", ")}"`,
      "---",
      "xychart-beta",
      '  title "Metrics over releases, coloured as the squares in the table"',
      `  x-axis [${points.map((p) => mermaidLabel(p.label)).join(", ")}]`,
      '  y-axis "score" 0 --> 1',
      ...charted.map((m) => `  line [${points.map((p) => round(p.metrics[m] as number)).join(", ")}]`),
      "```",
    );
  }
  lines.push(
    "",
    `| metric | ${points.map((p) => md(p.label, 40)).join(" | ")} | Δ since ${md(first.label, 40)} |`,
    `| --- |${points.map(() => " ---: |").join("")} ---: |`,
  );
  for (const metric of metrics) {
    const series = charted.indexOf(metric);
    const before = first.metrics[metric];
    const now = current.metrics[metric];
    const delta = typeof before === "number" && typeof now === "number" ? now - before : undefined;
    const fell = delta !== undefined && delta < -(tolerance[metric] ?? DEFAULT_TOLERANCE);
    const cells = [...releases.map((r) => pct(r.metrics[metric])), `**${pct(now)}**`];
    lines.push(
      `| ${series === -1 ? "" : `${SERIES[series]![0]} `}${md(metric)} | ${cells.join(" | ")} | ${delta === undefined ? "–" : `${signed(delta)}${fell ? " ⚠️" : ""}`} |`,
    );
  }
  return lines.join("\n");
}
