import { sha256 } from "../core/canonical.js";
import { cellCode, code, html, md, mermaidLabel } from "../core/markdown-escape.js";
import type { CacheEvent } from "./cache.js";
import { pct, round, signed } from "./format.js";
import { effectiveThresholds } from "./gate.js";
import type { BenchmarkData, DriftResult, GateFailure, QcReport } from "./report-data.js";
import { type TrendPoint, trendSection } from "./trend.js";

/** Finds the action's comment among a pull request's comments. */
export const MARKER = "<!-- mcp-forge-report -->";
/** GitHub's limit on an issue comment body. */
export const COMMENT_LIMIT = 65_536;

export interface ReportInput {
  mode: "full" | "drift";
  qc?: QcReport;
  benchmark?: BenchmarkData;
  /** The action's `thresholds` input, over the report's and the contract's (effectiveThresholds). */
  thresholds: Record<string, number>;
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
  /** The benchmarks of the last releases, oldest first, for the trend beside this run's. */
  trend?: TrendPoint[];
  /** This run in the trend: "PR #7", the tag, or "this run". */
  currentLabel?: string;
}

/**
 * What `comment: on-change` compares: the metrics, the gate (thresholds and what failed) and the
 * drift verdict, as a hidden line under the marker. Step times, cache results and the trend are left
 * out: they change on every run.
 */
export function stateMarker(input: ReportInput): string {
  const verdict = {
    metrics: input.benchmark?.metrics ?? null,
    thresholds: input.benchmark ? effectiveThresholds(input.benchmark, input.thresholds) : null,
    problems: problems(input),
    drift: input.drift
      ? { status: input.drift.status, breaking: input.drift.breaking ?? false, release: input.drift.release ?? null }
      : null,
  };
  return `<!-- mcp-forge-state ${sha256(JSON.stringify(verdict)).slice(0, 16)} -->`;
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
  const parts = [`${MARKER}\n${stateMarker(input)}`, headline(input)];
  if (input.benchmark)
    parts.push(
      benchmarkSection(input.benchmark, effectiveThresholds(input.benchmark, input.thresholds), input.failures, rows),
    );
  if (input.benchmark && input.trend && input.trend.length > 0) {
    parts.push(
      trendSection(
        input.trend,
        { label: input.currentLabel ?? "this run", metrics: input.benchmark.metrics },
        input.benchmark.tolerance,
      ),
    );
  }
  if (input.qc) parts.push(qcSection(input.qc, rows));
  if (input.drift) parts.push(driftSection(input.drift, rows));
  if (input.cache.length > 0) parts.push(cacheSection(input.cache, rows));
  const times = Object.entries(input.timings ?? {}).map(([step, seconds]) => `${step} ${seconds} s`);
  parts.push(
    `<sub>${times.length > 0 ? `Step times: ${times.join(" · ")}<br>` : ""}[workflow run](${input.runUrl}) · [artifacts](${input.runUrl}#artifacts)</sub>`,
  );
  return `${parts.join("\n\n")}\n`;
}

/** Why the run failed, as the headline names it; empty when it passed. */
function problems(input: ReportInput): string[] {
  return [
    ...input.failedSteps.map((s) => `step ${s} failed`),
    ...input.failures.map((f) => (f.kind === "threshold" ? `${f.metric} below threshold` : `${f.metric} regressed`)),
    ...(input.qc?.passed === false ? ["QC gate failed"] : []),
    ...(input.drift?.status === "drift" && (input.mode === "drift" || input.drift.breaking)
      ? [input.drift.breaking ? "breaking toolset drift" : "toolset drift"]
      : []),
  ];
}

function headline(input: ReportInput): string {
  const failed = problems(input);
  const title = input.mode === "drift" ? "MCP-Forge drift check" : "MCP-Forge";
  const status =
    failed.length === 0
      ? `## ✅ ${title}: passed`
      : `## ❌ ${title}: failed: ${failed.map((p) => md(p, 120)).join(", ")}`;
  const facts = [
    input.benchmark?.model ? `model ${code(basename(input.benchmark.model))}` : "",
    input.toolsetHash ? `toolset ${code(input.toolsetHash.slice(0, 19))}` : "",
    input.mode === "full" ? `baseline: ${input.baselineNote}` : "",
  ].filter(Boolean);
  return facts.length > 0 ? `${status}\n\n${facts.join(" · ")}` : status;
}

/**
 * The metric table: each metric's value, change against the baseline and threshold (the one that gated
 * this run). ✅ only where the metric meets its threshold and did not regress; ❌ where it failed either.
 */
function benchmarkSection(
  report: BenchmarkData,
  thresholds: Record<string, number>,
  failures: readonly GateFailure[],
  rows: number,
): string {
  const failing = new Set(failures.map((f) => f.metric));
  const lines = [
    "### Benchmark",
    "",
    "| metric | value | Δ vs baseline | 95% CI of Δ | threshold | |",
    "| --- | ---: | ---: | --- | ---: | --- |",
  ];
  for (const [metric, value] of Object.entries(report.metrics)) {
    const delta = report.deltas?.[metric];
    const ci = report.deltaIntervals?.[metric];
    const limit = thresholds[metric];
    const verdict = failing.has(metric)
      ? "❌"
      : limit === undefined
        ? ""
        : typeof value !== "number"
          ? "not measured"
          : value >= limit
            ? "✅"
            : "❌";
    lines.push(
      `| ${md(metric)} | ${pct(value)} | ${delta === undefined || delta === null ? "–" : signed(delta)} | ${ci ? `${signed(ci.low)} … ${signed(ci.high)}` : "–"} | ${limit === undefined ? "reported" : `≥ ${pct(limit)}`} | ${verdict} |`,
    );
  }
  const latency = report.latencyMs;
  if (latency)
    lines.push("", `Latency per prompt: p50 ${ms(latency.p50)} · p95 ${ms(latency.p95)} · p99 ${ms(latency.p99)}`);
  if (failures.length > 0) lines.push("", ...failures.map((f) => `- ❌ ${md(f.message, 300)}`));
  lines.push("", chart(report));
  const perTool = Object.entries(report.perTool ?? {});
  if (perTool.length > 0)
    lines.push("", details(`Per-tool results (${perTool.length} tools)`, metricTable("tool", perTool, rows)));
  const perScenario = Object.entries(report.perScenario ?? {});
  if (perScenario.length > 0)
    lines.push("", details(`Per-scenario results (${perScenario.length})`, metricTable("scenario", perScenario, rows)));
  return lines.join("\n");
}

/** A Mermaid bar chart of every metric, with the baseline as a line when there is one. */
function chart(report: BenchmarkData): string {
  const metrics = Object.entries(report.metrics).filter(([, v]) => typeof v === "number") as Array<[string, number]>;
  if (metrics.length === 0) return "";
  const names = metrics.map(([m]) => mermaidLabel(m)).join(", ");
  const lines = [
    "```mermaid",
    "xychart-beta",
    '  title "Metrics (bars: this run · line: baseline)"',
    `  x-axis [${names}]`,
    '  y-axis "score" 0 --> 1',
  ];
  lines.push(`  bar [${metrics.map(([, v]) => round(v)).join(", ")}]`);
  const deltas = report.deltas ?? {};
  if (metrics.every(([m]) => typeof deltas[m] === "number"))
    lines.push(`  line [${metrics.map(([m, v]) => round(v - (deltas[m] as number))).join(", ")}]`);
  lines.push("```");
  return lines.join("\n");
}

function metricTable(
  label: string,
  entries: Array<[string, Record<string, number | null | undefined>]>,
  rows: number,
): string {
  const metrics = [...new Set(entries.flatMap(([, m]) => Object.keys(m)))];
  const lines = [
    `| ${label} | ${metrics.map((m) => md(m)).join(" | ")} |`,
    `| --- |${metrics.map(() => " ---: |").join("")}`,
  ];
  for (const [name, values] of entries.slice(0, rows))
    lines.push(`| ${md(name, 80)} | ${metrics.map((m) => pct(values[m])).join(" | ")} |`);
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
    const table =
      [
        "| tool | samples |",
        "| --- | ---: |",
        ...coverage.slice(0, rows).map(([t, n]) => `| ${md(t, 80)} | ${n} |`),
      ].join("\n") + more(coverage.length, rows);
    lines.push("", details(`Samples per tool (${coverage.length} tools)`, table));
  }
  const issues = qc.issues ?? [];
  if (issues.length > 0) {
    const table =
      [
        "| line | kind | message |",
        "| ---: | --- | --- |",
        ...issues.slice(0, rows).map((i) => `| ${num(i.line)} | ${md(i.kind, 40)} | ${md(i.message, 200)} |`),
      ].join("\n") + more(issues.length, rows);
    lines.push("", details(`QC issues (${issues.length})`, table));
  }
  return lines.join("\n");
}

function driftSection(drift: DriftResult, rows: number): string {
  const icon = { match: "✅", drift: drift.breaking ? "❌" : "⚠️", "no-release": "ℹ️", skipped: "ℹ️", error: "⚠️" }[
    drift.status
  ];
  const lines = ["### Toolset drift", "", `${icon} ${md(drift.message, 300)}`];
  const items = [
    ...(drift.added ?? []).map((t) => `- added ${code(t, 80)}`),
    ...(drift.removed ?? []).map((t) => `- removed ${code(t, 80)} (breaking)`),
    ...(drift.changed ?? []).map(
      (c) =>
        `- changed ${code(c.name, 80)}${c.breaking ? " (breaking)" : ""}: ${c.paths
          .slice(0, 5)
          .map((p) => code(p, 80))
          .join(", ")}`,
    ),
  ];
  if (items.length > 0)
    lines.push(
      "",
      details(
        `Changes since ${html(drift.release ?? "the last release", 80)} (${items.length})`,
        items.slice(0, rows).join("\n") + more(items.length, rows),
      ),
    );
  return lines.join("\n");
}

function cacheSection(events: readonly CacheEvent[], rows: number): string {
  const table = [
    "| cache | result | key |",
    "| --- | --- | --- |",
    ...events
      .slice(0, rows)
      .map(
        (e) =>
          `| ${md(e.what)} | ${e.result}${e.matchedKey && e.result === "partial" ? ` (${cellCode(e.matchedKey, 80)})` : ""} | ${cellCode(e.key, 100)} |`,
      ),
  ].join("\n");
  const hits = events.filter((e) => e.result === "hit" || e.result === "partial").length;
  const lookups = events.filter((e) => ["hit", "partial", "miss"].includes(e.result)).length;
  return details(`Cache: ${hits} of ${lookups} look-ups hit`, table + more(events.length, rows));
}

/** `summary` is HTML character data: text from outside goes through html(), not md(). */
const details = (summary: string, body: string) => `<details><summary>${summary}</summary>\n\n${body}\n\n</details>`;
const more = (total: number, shown: number) =>
  total > shown ? `\n\n… ${total - Math.max(0, shown)} more rows in the artifacts` : "";
const ms = (x: number | undefined) => (typeof x === "number" ? `${Math.round(x)} ms` : "–");
const num = (x: number | undefined) => (typeof x === "number" ? String(x) : "–");
const basename = (path: string) => path.split(/[\\/]/).pop() ?? path;
