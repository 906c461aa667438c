import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";

import { writeFileAtomic, writeJsonAtomic } from "../core/atomic.js";
import { badInput } from "../core/errors.js";
import { loadBackend, type LoadBackendOptions } from "../models/load.js";
import { benchmarkMarkdown } from "./benchmark-md.js";
import type { BenchmarkReport, Decoding, Gate, ModelRun } from "./benchmark-report.js";
import { pairedBootstrap } from "./bootstrap.js";
import { type EvalInputs, evaluate, openExecutor, prepare, type Prepared } from "./engine.js";
import { type Contributions, type MetricName, METRICS, THRESHOLDS } from "./metrics.js";
import { measure, type RunSummary, summarise } from "./report.js";
import type { ValidationReport } from "./validation.js";

export const DEFAULT_TOLERANCE = 0.02;

export interface BenchmarkOptions extends EvalInputs {
  model: string;
  backendOptions?: LoadBackendOptions;
  /** A benchmark.json from an earlier run to compare with. */
  baseline?: string;
  /** A model (e.g. the base model before fine-tuning) to run now as the baseline. */
  baselineModel?: string;
  /** A reports/validation.json of this model, tools and eval set whose runs stand for the model's (no second grading). */
  runsFrom?: string;
  decoding?: Decoding;
  /** Absolute drop that counts as a regression, per metric (default 0.02). */
  tolerance?: Partial<Record<MetricName, number>>;
  gate?: Gate;
  allowMismatch?: boolean;
  reportDir?: string;
  bootstrapResamples?: number;
  onProgress?: (label: string, done: number, total: number) => void;
}

interface BaselineData {
  model: string;
  decoding: string;
  toolsetHash?: string;
  evalSetHash?: string;
  metrics: ModelRun["metrics"];
  perTool: ModelRun["perTool"];
  runs: RunSummary[];
}

/**
 * Every metric overall, per tool and per scenario, latency and throughput; with a baseline,
 * deltas with paired-bootstrap 95% intervals and the regressions that fail the gate.
 * Writes reports/benchmark.{json,md}.
 */
export async function runBenchmark(options: BenchmarkOptions): Promise<BenchmarkReport> {
  const prepared = await prepare(options);
  const baselineFile = options.baseline
    ? await readBaseline(options.baseline, prepared, Boolean(options.allowMismatch))
    : undefined;
  const decoding = options.decoding ?? "free";
  const modes: Array<"free" | "constrained"> = decoding === "both" ? ["free", "constrained"] : [decoding];
  const measured: ModelRun[] = [];
  if (options.runsFrom) {
    if (decoding !== "free") {
      throw badInput(
        `--runs-from with --decoding ${decoding}: a validation report holds free decoding only`,
        "drop --runs-from to grade the model in this mode",
      );
    }
    measured.push(await readValidationRuns(options.runsFrom, options, prepared));
  } else {
    for (const mode of modes) measured.push(await measureModel(options.model, mode, options, prepared));
  }
  const primary = measured[0]!;
  let baseline: BaselineData | undefined = baselineFile;
  let baselineSource = options.baseline ?? "";
  if (options.baselineModel) {
    const run = await measureModel(options.baselineModel, "free", options, prepared);
    baseline = { ...run, toolsetHash: prepared.toolsFile.toolsetHash, evalSetHash: prepared.evalSet.hash };
    baselineSource = "--baseline-model";
  }
  const tolerance = Object.fromEntries(METRICS.map((m) => [m, options.tolerance?.[m] ?? DEFAULT_TOLERANCE])) as Record<
    MetricName,
    number
  >;
  const gate = options.gate ?? "absolute";
  const comparison = baseline
    ? compare(primary, baseline, tolerance, gate, options)
    : { deltas: {}, deltaIntervals: {}, regressions: [] };
  const reportDir = options.reportDir ?? join(options.workdir, "reports");
  const files = { json: join(reportDir, "benchmark.json"), md: join(reportDir, "benchmark.md") };
  const report: BenchmarkReport = {
    ...primary,
    ...(baseline ? { baseline: { model: baseline.model, source: baselineSource, decoding: baseline.decoding } } : {}),
    ...(options.runsFrom ? { runsFrom: options.runsFrom } : {}),
    toolsetHash: prepared.toolsFile.toolsetHash,
    evalSetHash: prepared.evalSet.hash,
    evalSet: prepared.evalSet.path,
    maxTurns: options.maxTurns,
    thresholds: THRESHOLDS,
    tolerance,
    gate,
    ...comparison,
    ...(measured[1] ? { comparison: measured[1] } : {}),
    ...(baseline ? { baselinePerTool: baseline.perTool } : {}),
    passed: primary.thresholdFailures.length === 0 && comparison.regressions.length === 0,
    files,
  };
  await writeJsonAtomic(files.json, report);
  await writeFileAtomic(files.md, benchmarkMarkdown(report));
  return report;
}

async function measureModel(
  model: string,
  decoding: "free" | "constrained",
  options: BenchmarkOptions,
  prepared: Prepared,
): Promise<ModelRun> {
  const backend = await loadBackend(model, {
    seed: options.seed ?? 0,
    ...options.backendOptions,
    constrained: decoding === "constrained",
  });
  const started = performance.now();
  try {
    const open = await openExecutor(options, prepared);
    try {
      const runs = await evaluate(backend, prepared, open.executor, {
        maxTurns: options.maxTurns,
        onProgress: (done, total) => options.onProgress?.(`${model} (${decoding})`, done, total),
      });
      return { model, decoding, ...measure(runs, performance.now() - started), runs: summarise(runs) };
    } finally {
      await open.close();
    }
  } finally {
    await backend.close();
  }
}

/**
 * The model's runs from a validation report, when it graded this very model on these tools and
 * this eval set with free decoding: validation and the benchmark would otherwise grade every prompt twice.
 */
async function readValidationRuns(path: string, options: BenchmarkOptions, prepared: Prepared): Promise<ModelRun> {
  const report = await readReport<ValidationReport>(
    "--runs-from",
    path,
    "pass the reports/validation.json that `mcp-forge validate` wrote for this model",
  );
  const fix = "run `mcp-forge validate` on this model again, or drop --runs-from to grade it here";
  const mismatch = (what: string, was: unknown, now: unknown) =>
    badInput(`--runs-from ${path} graded ${what} ${JSON.stringify(was ?? null)}, not ${JSON.stringify(now)}`, fix);
  if (!report || typeof report !== "object" || typeof report.metrics !== "object" || !Array.isArray(report.runs)) {
    throw badInput(`--runs-from ${path}: /metrics or /runs is missing`, fix);
  }
  if (typeof report.model !== "string" || resolve(report.model) !== resolve(options.model))
    throw mismatch("the model", report.model, options.model);
  if (report.constrained) throw mismatch("with decoding", "constrained", "free");
  if (report.toolsetHash !== prepared.toolsFile.toolsetHash)
    throw mismatch("the toolset", report.toolsetHash, prepared.toolsFile.toolsetHash);
  if (report.evalSetHash !== prepared.evalSet.hash)
    throw mismatch("the eval set", report.evalSetHash, prepared.evalSet.hash);
  if (report.maxTurns !== options.maxTurns) throw mismatch("with --max-turns", report.maxTurns, options.maxTurns);
  if (report.runs.length !== prepared.cases.length)
    throw mismatch("a number of prompts", report.runs.length, prepared.cases.length);
  const r = report as ValidationReport;
  return {
    model: r.model,
    decoding: "free",
    metrics: r.metrics,
    perTool: r.perTool,
    perScenario: r.perScenario,
    latencyMs: r.latencyMs,
    latency: r.latency,
    throughput: r.throughput,
    harness: r.harness,
    thresholdFailures: r.thresholdFailures,
    counts: r.counts,
    runs: r.runs,
  };
}

/** Deltas (current − baseline) for every metric, their intervals, and which fell past the tolerance. */
export function compare(
  current: Pick<ModelRun, "metrics" | "runs">,
  baseline: Pick<BaselineData, "metrics" | "runs">,
  tolerance: Record<MetricName, number>,
  gate: Gate,
  options: { seed?: number; bootstrapResamples?: number } = {},
): Pick<BenchmarkReport, "deltas" | "deltaIntervals" | "regressions"> {
  const byId = (runs: readonly RunSummary[]) =>
    new Map<string, Contributions>(runs.map((r) => [r.id, r.contributions]));
  const deltaIntervals = pairedBootstrap(byId(current.runs), byId(baseline.runs), {
    seed: options.seed ?? 0,
    resamples: options.bootstrapResamples ?? 1000,
  });
  const deltas: Partial<Record<MetricName, number | null>> = {};
  const regressions: MetricName[] = [];
  for (const m of METRICS) {
    const now = current.metrics[m];
    const before = baseline.metrics[m];
    const delta =
      now === null || before === null || before === undefined ? null : Math.round((now - before) * 1e6) / 1e6;
    deltas[m] = delta;
    if (delta === null || delta >= -tolerance[m]) continue;
    const interval = deltaIntervals[m];
    if (gate === "significant" && !(interval && interval.high < 0)) continue;
    regressions.push(m);
  }
  return { deltas, deltaIntervals, regressions };
}

async function readBaseline(path: string, prepared: Prepared, allowMismatch: boolean): Promise<BaselineData> {
  const data = await readReport<BaselineData>("--baseline", path, "pass a reports/benchmark.json from an earlier run");
  if (!data || typeof data.metrics !== "object" || !Array.isArray(data.runs)) {
    throw badInput(
      `--baseline ${path}: /metrics or /runs is missing`,
      "pass a reports/benchmark.json written by `mcp-forge benchmark`",
    );
  }
  if (!allowMismatch) {
    if (data.toolsetHash !== prepared.toolsFile.toolsetHash) {
      throw badInput(
        `--baseline ${path} was measured on a different toolset (toolsetHash ${data.toolsetHash ?? "missing"}, now ${prepared.toolsFile.toolsetHash}); its figures are not comparable`,
        "benchmark the baseline again on this tools.json, or pass --allow-mismatch to compare anyway",
      );
    }
    if (data.evalSetHash !== prepared.evalSet.hash) {
      throw badInput(
        `--baseline ${path} was measured on a different eval set (evalSetHash ${data.evalSetHash ?? "missing"}, now ${prepared.evalSet.hash})`,
        "benchmark the baseline again on this eval set, or pass --allow-mismatch to compare anyway",
      );
    }
  }
  return { model: String(data.model ?? path), decoding: String(data.decoding ?? "free"), ...data } as BaselineData;
}

/** The JSON report that `flag` names, or exit 2 with `hint` when it cannot be read. */
async function readReport<T>(flag: string, path: string, hint: string): Promise<Partial<T>> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as Partial<T>;
  } catch (error) {
    throw badInput(`${flag} ${path}: cannot read it as JSON (${(error as Error).message})`, hint);
  }
}
