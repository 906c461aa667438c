import type { CacheEvent } from "./cache.js";
import { code, md } from "./escape.js";
import type { BenchmarkData, DriftResult, GateFailure, QcReport } from "./report-data.js";

/** Finds the action's comment among a pull request's comments. */
export const MARKER = "<!-- mcp-forge-report -->";
/** GitHub's limit on an issue comment body. */
export const COMMENT_LIMIT = 65_536;

export interface ReportInput {
  mode: "full" | "drift";
  qc?: QcReport;
  benchmark?: BenchmarkData;
  failures: GateFailure[];
  baselineNote: string;
  drift?: DriftResult;
  cache: CacheEvent[];
  toolsetHash?: string;
  runUrl: string;
  /** Steps that failed before writing their report, e.g. "train". */
  failedSteps: string[];
  /** Seconds each step of this job took so far. */
  timings?: Record<string, number>;
}

/**
 * The PR comment and job summary: the headline and the metric table always; the detail tables
 * (per tool, per scenario, QC issues, drift) cut to fewer rows until the whole fits `limit`.
 */
export function renderReport(input: ReportInput, limit = COMMENT_LIMIT): string {
  for (const rows of [Infinity, 500, 200, 100, 50, 20, 10, 5, 0]) {
    const text = compose(input, rows);
    if (text.length <= limit) return text;
  }
  const head = compose(input, 0);
  return head.length <= limit ? head : `${head.slice(0, limit - 40)}\n\n… (cut to fit)\n`;
}

function compose(input: ReportInput, rows: number): string {
  const parts = [MARKER, headline(input)];
  if (input.benchmark) parts.push(benchmarkSection(input.benchmark, input.failures, rows));
  if (input.qc) parts.push(qcSection(input.qc, rows));
  if (input.drift) parts.push(driftSection(input.drift, rows));
  if (input.cache.length > 0) parts.push(cacheSection(input.cache, rows));
  const times = Object.entries(input.timings ?? {}).map(([step, seconds]) => `${step} ${seconds} s`);
  parts.push(`<sub>${times.length > 0 ? `Step times: ${times.join(" · ")}<br>` : ""}[workflow run](${input.runUrl}) · [artifacts](${input.runUrl}#artifacts)</sub>`);
  return `${parts.join("\n\n")}\n`;
}

function headline(input: ReportInput): string {
  const problems = [
    ...input.failedSteps.map((s) => `step ${s} failed`),
    ...input.failures.map((f) => (f.kind === "threshold" ? `${f.metric} below threshold` : `${f.metric} regressed`)),
    ...(input.qc?.passed === false ? ["QC gate failed"] : []),
    ...(input.drift?.status === "drift" && (input.mode === "drift" || input.drift.breaking) ? [input.drift.breaking ? "breaking toolset drift" : "toolset drift"] : []),
  ];
  const title = input.mode === "drift" ? "MCP-Forge drift check" : "MCP-Forge";
  const status = problems.length === 0 ? `## ✅ ${title}: passed` : `## ❌ ${title}: failed: ${problems.join(", ")}`;
  const facts = [
    input.benchmark?.model ? `model ${code(basename(input.benchmark.model))}` : "",
    input.toolsetHash ? `toolset ${code(input.toolsetHash.slice(0, 19))}` : "",
    input.mode === "full" ? `baseline: ${input.baselineNote}` : "",
  ].filter(Boolean);
  return facts.length > 0 ? `${status}\n\n${facts.join(" · ")}` : status;
}

function benchmarkSection(report: BenchmarkData, failures: readonly GateFailure[], rows: number): string {
  const failing = new Set(failures.map((f) => f.metric));
  const lines = ["### Benchmark", "", "| metric | value | Δ vs baseline | 95% CI of Δ | threshold | |", "| --- | ---: | ---: | --- | ---: | --- |"];
  const thresholds = report.thresholds ?? {};
  const overridden = new Map(failures.filter((f) => f.kind === "threshold").map((f) => [f.metric, f.limit]));
  for (const [metric, value] of Object.entries(report.metrics)) {
    const delta = report.deltas?.[metric];
    const ci = report.deltaIntervals?.[metric];
    const limit = overridden.get(metric) ?? thresholds[metric];
    lines.push(
      `| ${md(metric)} | ${pct(value)} | ${delta === undefined || delta === null ? "–" : signed(delta)} | ${ci ? `${signed(ci.low)} … ${signed(ci.high)}` : "–"} | ${limit === undefined ? "reported" : `≥ ${pct(limit)}`} | ${failing.has(metric) ? "❌" : limit === undefined || typeof value !== "number" ? "" : "✅"} |`,
    );
  }
  const latency = report.latencyMs;
  if (latency) lines.push("", `Latency per prompt: p50 ${ms(latency.p50)} · p95 ${ms(latency.p95)} · p99 ${ms(latency.p99)}`);
  if (failures.length > 0) lines.push("", ...failures.map((f) => `- ❌ ${md(f.message, 300)}`));
  lines.push("", chart(report));
  const perTool = Object.entries(report.perTool ?? {});
  if (perTool.length > 0) lines.push("", details(`Per-tool results (${perTool.length} tools)`, metricTable("tool", perTool, rows)));
  const perScenario = Object.entries(report.perScenario ?? {});
  if (perScenario.length > 0) lines.push("", details(`Per-scenario results (${perScenario.length})`, metricTable("scenario", perScenario, rows)));
  return lines.join("\n");
}

/** A Mermaid bar chart of every metric, with the baseline as a line when there is one. */
function chart(report: BenchmarkData): string {
  const metrics = Object.entries(report.metrics).filter(([, v]) => typeof v === "number") as Array<[string, number]>;
  if (metrics.length === 0) return "";
  const names = metrics.map(([m]) => `"${m.replace(/[^A-Za-z0-9]/g, "")}"`).join(", ");
  const lines = ["```mermaid", "xychart-beta", '  title "Metrics (bars: this run · line: baseline)"', `  x-axis [${names}]`, '  y-axis "score" 0 --> 1'];
  lines.push(`  bar [${metrics.map(([, v]) => round(v)).join(", ")}]`);
  const deltas = report.deltas ?? {};
  if (metrics.every(([m]) => typeof deltas[m] === "number")) lines.push(`  line [${metrics.map(([m, v]) => round(v - (deltas[m] as number))).join(", ")}]`);
  lines.push("```");
  return lines.join("\n");
}

function metricTable(label: string, entries: Array<[string, Record<string, number | null | undefined>]>, rows: number): string {
  const metrics = [...new Set(entries.flatMap(([, m]) => Object.keys(m)))];
  const lines = [`| ${label} | ${metrics.map((m) => md(m)).join(" | ")} |`, `| --- |${metrics.map(() => " ---: |").join("")}`];
  for (const [name, values] of entries.slice(0, rows)) lines.push(`| ${md(name, 80)} | ${metrics.map((m) => pct(values[m])).join(" | ")} |`);
  return lines.join("\n") + more(entries.length, rows);
}

function qcSection(qc: QcReport, rows: number): string {
  const lines = [
    "### Data quality (QC)",
    "",
    "| samples | valid | dropped | schema pass rate | dedup rate | gate |",
    "| ---: | ---: | ---: | ---: | ---: | --- |",
    `| ${num(qc.total)} | ${num(qc.valid)} | ${num(qc.dropped)} | ${pct(qc.schemaPassRate)} | ${pct(qc.dedupRate)} | ${qc.passed === false ? "❌ failed" : "✅ passed"} |`,
  ];
  const scenarios = Object.entries(qc.scenarioCoverage ?? {});
  if (scenarios.length > 0) lines.push("", `Scenarios: ${scenarios.map(([s, n]) => `${md(s, 40)} ${n}`).join(" · ")}`);
  const coverage = Object.entries(qc.toolCoverage ?? {});
  if (coverage.length > 0) {
    const table = ["| tool | samples |", "| --- | ---: |", ...coverage.slice(0, rows).map(([t, n]) => `| ${md(t, 80)} | ${n} |`)].join("\n") + more(coverage.length, rows);
    lines.push("", details(`Samples per tool (${coverage.length} tools)`, table));
  }
  const issues = qc.issues ?? [];
  if (issues.length > 0) {
    const table = ["| line | kind | message |", "| ---: | --- | --- |", ...issues.slice(0, rows).map((i) => `| ${num(i.line)} | ${md(i.kind, 40)} | ${md(i.message, 200)} |`)].join("\n") + more(issues.length, rows);
    lines.push("", details(`QC issues (${issues.length})`, table));
  }
  return lines.join("\n");
}

function driftSection(drift: DriftResult, rows: number): string {
  const icon = { match: "✅", drift: drift.breaking ? "❌" : "⚠️", "no-release": "ℹ️", skipped: "ℹ️", error: "⚠️" }[drift.status];
  const lines = ["### Toolset drift", "", `${icon} ${md(drift.message, 300)}`];
  const items = [
    ...(drift.added ?? []).map((t) => `- added ${code(t, 80)}`),
    ...(drift.removed ?? []).map((t) => `- removed ${code(t, 80)} (breaking)`),
    ...(drift.changed ?? []).map((c) => `- changed ${code(c.name, 80)}${c.breaking ? " (breaking)" : ""}: ${c.paths.slice(0, 5).map((p) => code(p, 80)).join(", ")}`),
  ];
  if (items.length > 0) lines.push("", details(`Changes since ${md(drift.release ?? "the last release", 80)} (${items.length})`, items.slice(0, rows).join("\n") + more(items.length, rows)));
  return lines.join("\n");
}

function cacheSection(events: readonly CacheEvent[], rows: number): string {
  const table = ["| cache | result | key |", "| --- | --- | --- |", ...events.slice(0, rows).map((e) => `| ${e.what} | ${e.result}${e.matchedKey && e.result === "partial" ? ` (${code(e.matchedKey, 80)})` : ""} | ${code(e.key, 100)} |`)].join("\n");
  const hits = events.filter((e) => e.result === "hit" || e.result === "partial").length;
  const lookups = events.filter((e) => ["hit", "partial", "miss"].includes(e.result)).length;
  return details(`Cache: ${hits} of ${lookups} look-ups hit`, table + more(events.length, rows));
}

const details = (summary: string, body: string) => `<details><summary>${summary}</summary>\n\n${body}\n\n</details>`;
const more = (total: number, shown: number) => (total > shown ? `\n\n… ${total - Math.max(0, shown)} more rows in the artifacts` : "");
const pct = (x: number | null | undefined) => (typeof x === "number" ? `${(x * 100).toFixed(1)}%` : "–");
const signed = (x: number) => `${x >= 0 ? "+" : "−"}${(Math.abs(x) * 100).toFixed(1)} pp`;
const ms = (x: number | undefined) => (typeof x === "number" ? `${Math.round(x)} ms` : "–");
const num = (x: number | undefined) => (typeof x === "number" ? String(x) : "–");
const round = (x: number) => Math.round(x * 1000) / 1000;
const basename = (path: string) => path.split(/[\\/]/).pop() ?? path;
