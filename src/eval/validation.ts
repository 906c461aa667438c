import { join } from "node:path";

import { writeFileAtomic, writeJsonAtomic } from "../core/atomic.js";
import { codeBlock, md } from "../core/markdown-escape.js";
import { loadBackend, type LoadBackendOptions } from "../models/load.js";
import type { ModelBackend } from "../models/types.js";
import { type EvalInputs, evaluate, openExecutor, prepare, type ScoredRun } from "./engine.js";
import { fmt, table } from "./markdown.js";
import { METRICS, THRESHOLDS } from "./metrics.js";
import { measure, type Measurement, type RunSummary, summarise } from "./report.js";

export interface ValidationOptions extends EvalInputs {
  /** `--model`: a GGUF path or openai:<name>. */
  model: string;
  backendOptions?: LoadBackendOptions;
  /** An already loaded backend (the pipeline reuses one); `model` then only names it. */
  backend?: ModelBackend;
  /** Where reports/validation.{json,md} go (default <workdir>/reports). */
  reportDir?: string;
  /** Include every transcript (model text, calls, results) in the reports. */
  transcripts?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface ValidationReport extends Measurement {
  model: string;
  constrained: boolean;
  calls: { target: string; execute?: string };
  toolsetHash: string;
  evalSetHash: string;
  evalSet: string;
  maxTurns: number;
  thresholds: typeof THRESHOLDS;
  passed: boolean;
  runs: RunSummary[];
  transcripts?: ScoredRun[];
  files: { json: string; md: string };
}

/** Looped validation: every held-out prompt through model → call → result → answer; writes reports/validation.{json,md}. */
export async function runValidation(options: ValidationOptions): Promise<ValidationReport> {
  const prepared = await prepare(options);
  const backend =
    options.backend ?? (await loadBackend(options.model, { seed: options.seed ?? 0, ...options.backendOptions }));
  let runs: ScoredRun[];
  let target: string;
  const started = performance.now();
  try {
    const open = await openExecutor(options, prepared);
    target = open.description;
    try {
      runs = await evaluate(backend, prepared, open.executor, {
        maxTurns: options.maxTurns,
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
    } finally {
      await open.close();
    }
  } finally {
    if (!options.backend) await backend.close();
  }
  const measurement = measure(runs, performance.now() - started);
  const reportDir = options.reportDir ?? join(options.workdir, "reports");
  const files = { json: join(reportDir, "validation.json"), md: join(reportDir, "validation.md") };
  const report: ValidationReport = {
    model: options.model,
    constrained: backend.constrained,
    calls: { target, ...(options.calls.kind === "server" ? { execute: options.calls.execute } : {}) },
    toolsetHash: prepared.toolsFile.toolsetHash,
    evalSetHash: prepared.evalSet.hash,
    evalSet: prepared.evalSet.path,
    maxTurns: options.maxTurns,
    thresholds: THRESHOLDS,
    ...measurement,
    passed: measurement.thresholdFailures.length === 0,
    runs: summarise(runs),
    ...(options.transcripts ? { transcripts: runs } : {}),
    files,
  };
  await writeJsonAtomic(files.json, report);
  await writeFileAtomic(files.md, validationMarkdown(report, runs));
  return report;
}

export function validationMarkdown(report: ValidationReport, runs: readonly ScoredRun[]): string {
  const c = report.counts;
  const verdict = report.passed ? "**PASS**" : `**FAIL** (${report.thresholdFailures.map((f) => f.metric).join(", ")})`;
  const lines = [
    `# Validation: ${md(report.model)}`,
    "",
    `${verdict} · ${c.prompts} prompts · calls ran against ${md(report.calls.target)}${report.calls.execute ? ` (execute: ${report.calls.execute})` : ""} · ${report.constrained ? "constrained" : "free"} decoding · max ${report.maxTurns} turns`,
    "",
    "## Metrics",
    "",
    table(
      ["metric", "value", "threshold", ""],
      METRICS.map((m) => {
        const t = THRESHOLDS[m];
        const v = report.metrics[m];
        const ok = t === undefined || v === null ? "" : v >= t ? "✓" : "✗";
        return [m, fmt(v), t === undefined ? "reported" : `≥ ${t}`, ok];
      }),
    ),
    "",
    "## What went wrong",
    "",
    table(
      ["problem", "count"],
      [
        ["unparseable calls", String(c.unparseableCalls)],
        ["unknown tools", String(c.unknownTools)],
        ["schema-invalid arguments", String(c.schemaInvalid)],
        ["retry storms (same failing call repeated)", String(c.retryStorms)],
        ["answers that ignore an error result", String(c.ignoredErrors)],
        ["runs that hit the turn limit", String(c.turnLimitHits)],
        ["model errors", String(c.modelErrors)],
        ["calls not run (not read-only), stand-in result", String(c.skippedCalls)],
      ],
    ),
    "",
  ];
  const shown = report.transcripts
    ? runs
    : runs.filter((r) => r.outcome !== "answered" || r.retryStorm || r.ignoredError).slice(0, 20);
  if (shown.length > 0) {
    lines.push(report.transcripts ? "## Transcripts" : "## Failed runs (first 20; --transcripts for all)", "");
    for (const run of shown) lines.push(...transcript(run), "");
  }
  return `${lines.join("\n")}\n`;
}

function transcript(run: ScoredRun): string[] {
  const out = [
    `### ${md(run.id)} (${md(run.scenario)}): ${run.outcome}${run.retryStorm ? ", retry storm" : ""}${run.ignoredError ? ", ignored an error" : ""}`,
    "",
  ];
  out.push(`expected: ${run.expectedTools.length ? run.expectedTools.map(md).join(", ") : "no tool"}`, "");
  run.turns.forEach((turn, i) => {
    out.push(`turn ${i + 1}, model:`, "", codeBlock(turn.raw || "(empty)"), "");
    for (const call of turn.calls) {
      out.push(`- call ${md(call.name ?? "?")}: ${call.check}${call.problem ? ` (${md(call.problem)})` : ""}`);
      if (call.result)
        out.push(
          "",
          `  result (${call.result.source}${call.result.isError ? ", error" : ""}):`,
          "",
          codeBlock(call.result.content.slice(0, 2000)).replace(/^/gm, "  "),
          "",
        );
    }
  });
  return out;
}
