import { md, mermaidLabel } from "../core/markdown-escape.js";
import type { BenchmarkReport, ModelRun } from "./benchmark-report.js";
import { arrow, fmt, signed, table } from "./markdown.js";
import { type MetricName, METRICS, type Metrics, THRESHOLDS } from "./metrics.js";

const HEADLINE: MetricName[] = ["toolSelectionAccuracy", "argumentAccuracy", "toolCallParseRate"];
const SHORT: Record<MetricName, string> = {
  toolCallParseRate: "parse",
  schemaConformance: "schema",
  toolSelectionAccuracy: "selection",
  argumentAccuracy: "arguments",
  noToolCorrectness: "no-tool",
  errorHandlingRate: "errors",
  loopCompletionRate: "loop",
};

export function benchmarkMarkdown(report: BenchmarkReport): string {
  const failed = [
    ...report.thresholdFailures.map((f) => `${f.metric} < ${f.threshold}`),
    ...report.regressions.map((m) => `${m} regressed`),
  ];
  const verdict = report.passed ? "✅ **PASS**" : `❌ **FAIL** (${failed.join(", ")})`;
  const headline = HEADLINE.map((m) => `${SHORT[m]} ${fmt(report.metrics[m])}${arrow(report.deltas[m])}`).join(" · ");
  const lines = [
    `# Benchmark: ${md(report.model)}`,
    "",
    `${verdict} · ${headline}`,
    "",
    `${report.counts.prompts} prompts · ${report.decoding} decoding${report.runsFrom ? ` · runs taken from ${md(report.runsFrom)}` : ""}${report.baseline ? ` · baseline ${md(report.baseline.model)}` : ""} · gate: ${report.gate}`,
    "",
    "## Metrics",
    "",
    metricsTable(report),
    "",
  ];
  if (report.comparison) {
    lines.push(
      `## ${report.decoding} vs ${report.comparison.decoding} decoding`,
      "",
      sideBySide(report, report.comparison),
      "",
    );
  }
  lines.push(
    "## Per tool",
    "",
    groupTable(report.perTool, "tool"),
    "",
    "## Per scenario",
    "",
    groupTable(report.perScenario, "scenario"),
    "",
  );
  lines.push("## Latency (ms per prompt)", "", latencyTable(report), "");
  const t = report.throughput;
  lines.push(
    `Throughput: ${t.promptsPerSecond} prompts/s · prompt ${t.promptTokensPerSecond} tokens/s · generation ${t.generationTokensPerSecond} tokens/s · harness overhead ${(report.harness.overheadShare * 100).toFixed(1)}% (${report.harness.msPerTurn} ms/turn)`,
    "",
  );
  const chart = perToolChart(report);
  if (chart) lines.push("## Tool selection per tool", "", chart, "");
  return `${lines.join("\n")}\n`;
}

function metricsTable(report: BenchmarkReport): string {
  const rows = METRICS.map((m) => {
    const t = THRESHOLDS[m];
    const v = report.metrics[m];
    const interval = report.deltaIntervals[m];
    const status = report.regressions.includes(m)
      ? "✗ regressed"
      : t !== undefined && v !== null && v < t
        ? "✗ below threshold"
        : "✓";
    return [
      m,
      fmt(v),
      t === undefined ? "reported" : `≥ ${t}`,
      signed(report.deltas[m]) + arrow(report.deltas[m]),
      interval ? `[${signed(interval.low)}, ${signed(interval.high)}]` : "–",
      status,
    ];
  });
  return table(["metric", "value", "threshold", "Δ vs baseline", "95% CI", ""], rows);
}

function sideBySide(a: ModelRun, b: ModelRun): string {
  return table(
    ["metric", a.decoding, b.decoding],
    METRICS.map((m) => [m, fmt(a.metrics[m]), fmt(b.metrics[m])]).concat([
      ["loop p50 ms", fmt(a.latencyMs?.p50, 1), fmt(b.latencyMs?.p50, 1)],
      ["prompts/s", String(a.throughput.promptsPerSecond), String(b.throughput.promptsPerSecond)],
    ]),
  );
}

function groupTable(groups: Record<string, Metrics>, label: string): string {
  const names = Object.keys(groups);
  if (names.length === 0) return "(none)";
  return table(
    [label, ...METRICS.map((m) => SHORT[m])],
    names.map((n) => [md(n), ...METRICS.map((m) => fmt(groups[n]![m]))]),
  );
}

function latencyTable(report: BenchmarkReport): string {
  const rows: Array<[string, BenchmarkReport["latencyMs"]]> = [
    ["time to first token", report.latency.firstTokenMs],
    ["time to a complete tool call", report.latency.toolCallMs],
    ["end-to-end loop", report.latency.loopMs],
  ];
  return table(
    ["", "min", "p50", "p95", "p99", "max", "mean"],
    rows.map(([name, d]) => [
      name,
      ...(d ? [d.min, d.p50, d.p95, d.p99, d.max, d.mean].map((x) => x.toFixed(1)) : ["–", "–", "–", "–", "–", "–"]),
    ]),
  );
}

function perToolChart(report: BenchmarkReport): string | undefined {
  const tools = Object.keys(report.perTool);
  if (tools.length === 0) return undefined;
  const now = tools.map((t) => report.perTool[t]!.toolSelectionAccuracy ?? 0);
  const lines = [
    "```mermaid",
    "xychart-beta",
    `  title "toolSelectionAccuracy per tool${report.baseline ? " (bars: now, line: baseline)" : ""}"`,
    `  x-axis [${tools.map((t) => mermaidLabel(t)).join(", ")}]`,
    '  y-axis "accuracy" 0 --> 1',
    `  bar [${now.map((x) => x.toFixed(3)).join(", ")}]`,
  ];
  if (report.baselinePerTool) {
    const before = tools.map((t) => report.baselinePerTool?.[t]?.toolSelectionAccuracy ?? 0);
    lines.push(`  line [${before.map((x) => x.toFixed(3)).join(", ")}]`);
  }
  lines.push("```");
  return lines.join("\n");
}
