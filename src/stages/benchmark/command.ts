import { resolve } from "node:path";

import { Command, Option } from "commander";

import { collect, examples, globalOptions, withCommonOptions } from "../../cli/options.js";
import type { Output } from "../../cli/output.js";
import { badInput, ExitCode } from "../../core/errors.js";
import { outputHashes, withStage } from "../../core/state.js";
import { DEFAULT_TOLERANCE, runBenchmark } from "../../eval/benchmark.js";
import type { BenchmarkReport, Decoding, Gate } from "../../eval/benchmark-report.js";
import { type MetricName, METRICS } from "../../eval/metrics.js";
import { stageAction, type StageResult } from "../stage.js";
import { addEvalOptions, type EvalCliOptions, evalInputsFromOptions, progressPrinter } from "../validate/options.js";

interface BenchmarkCliOptions extends EvalCliOptions {
  json: boolean;
  baseline?: string;
  baselineModel?: string;
  runsFrom?: string;
  decoding: Decoding;
  constrained: boolean;
  tolerance: string;
  toleranceFor?: string[];
  gate: Gate;
  allowMismatch: boolean;
  reportDir?: string;
}

export function benchmarkCommand(): Command {
  const command = new Command("benchmark").description(
    "every metric overall, per tool and per scenario, latency and throughput; deltas against a baseline with bootstrap intervals; exits 1 on regression",
  );
  addEvalOptions(command)
    .option("--baseline <benchmark.json>", "an earlier benchmark report to compare with")
    .option(
      "--baseline-model <gguf|openai:name>",
      "a model to run now as the baseline, e.g. the base model before fine-tuning",
    )
    .option(
      "--runs-from <validation.json>",
      "take the model's runs from validate's report on the same model, tools and eval set instead of grading it again (run does)",
    )
    .addOption(
      new Option("--decoding <mode>", "free, constrained (grammar from the schemas), or both side by side")
        .choices(["free", "constrained", "both"])
        .default("free"),
    )
    .option("--constrained", "shorthand for --decoding constrained", false)
    .option("--tolerance <x>", "absolute drop that counts as a regression", String(DEFAULT_TOLERANCE))
    .option("--tolerance-for <metric=x>", "tolerance for one metric (repeatable)", collect)
    .addOption(
      new Option(
        "--gate <kind>",
        "absolute: fail on any drop past the tolerance; significant: only when the 95% interval excludes zero",
      )
        .choices(["absolute", "significant"])
        .default("absolute"),
    )
    .option("--allow-mismatch", "compare with a baseline measured on another toolset or eval set", false)
    .option("--report-dir <dir>", "where benchmark.{json,md} go (default <workdir>/reports)")
    .addHelpText(
      "after",
      examples(
        "mcp-forge benchmark",
        "mcp-forge benchmark --baseline main/benchmark.json --gate significant",
        "mcp-forge benchmark --model model.gguf --baseline-model base.gguf --decoding both",
        "mcp-forge benchmark --runs-from reports/validation.json --baseline main/benchmark.json",
        "mcp-forge benchmark --model openai:gpt-4o-mini --base-url http://127.0.0.1:8080/v1 --json",
      ),
    );
  return stageAction(withCommonOptions(command), benchmarkStage);
}

/** The command's work, called by its action and by `run`. */
export async function benchmarkStage(opts: BenchmarkCliOptions, output: Output): Promise<StageResult> {
  const { workdir } = globalOptions(opts);
  const inputs = evalInputsFromOptions(opts, workdir);
  const tolerance = tolerances(opts);
  const runsFrom = opts.runsFrom ? resolve(opts.runsFrom) : undefined;
  const { value: report } = await withStage(
    workdir,
    "BENCHMARKING",
    {
      inputs: {
        model: inputs.model,
        tools: inputs.toolsPath,
        eval: inputs.evalPath,
        ...(runsFrom ? { runsFrom } : {}),
      },
      finish: async (report) => ({
        outputs: await outputHashes(workdir, [report.files.json, report.files.md]),
        summary: { passed: report.passed, metrics: report.metrics, regressions: report.regressions },
        ...(report.passed ? {} : { status: "failed" as const, error: failureText(report) }),
      }),
    },
    () =>
      runBenchmark({
        ...inputs,
        ...(opts.baseline ? { baseline: resolve(opts.baseline) } : {}),
        ...(opts.baselineModel ? { baselineModel: opts.baselineModel } : {}),
        ...(runsFrom ? { runsFrom } : {}),
        decoding: opts.constrained ? "constrained" : opts.decoding,
        tolerance,
        gate: opts.gate,
        allowMismatch: opts.allowMismatch,
        ...(opts.reportDir ? { reportDir: opts.reportDir } : {}),
        onProgress: progressPrinter(output.info),
      }),
  );
  output.result({
    passed: report.passed,
    metrics: report.metrics,
    deltas: report.deltas,
    regressions: report.regressions,
    thresholdFailures: report.thresholdFailures,
    latencyMs: report.latencyMs,
    evalSet: { path: report.evalSet, hash: report.evalSetHash },
    files: report.files,
  });
  output.say(summaryLines(report));
  if (!report.passed) return ExitCode.gateFailed;
}

function tolerances(opts: BenchmarkCliOptions): Partial<Record<MetricName, number>> {
  const base = Number(opts.tolerance);
  if (!(base >= 0 && base <= 1)) throw badInput(`--tolerance ${opts.tolerance}: expected a number from 0 to 1`);
  const out: Partial<Record<MetricName, number>> = Object.fromEntries(METRICS.map((m) => [m, base]));
  for (const entry of opts.toleranceFor ?? []) {
    const [metric, value] = entry.split("=");
    const x = Number(value);
    if (!METRICS.includes(metric as MetricName) || !(x >= 0 && x <= 1)) {
      throw badInput(`--tolerance-for ${entry}: expected <metric>=<0..1>`, `metrics: ${METRICS.join(", ")}`);
    }
    out[metric as MetricName] = x;
  }
  return out;
}

const failureText = (r: BenchmarkReport) =>
  [
    ...r.thresholdFailures.map((f) => `${f.metric} below ${f.threshold}`),
    ...r.regressions.map((m) => `${m} regressed`),
  ].join(", ");

function summaryLines(report: BenchmarkReport): string {
  const lines = [
    `benchmark ${report.passed ? "PASSED" : `FAILED (${failureText(report)})`} on ${report.counts.prompts} prompts of ${report.evalSet} (${report.evalSetHash})`,
  ];
  for (const m of METRICS) {
    const v = report.metrics[m];
    const d = report.deltas[m];
    lines.push(
      `  ${m.padEnd(22)} ${v === null ? "–" : v.toFixed(3)}${d === null || d === undefined ? "" : `  Δ ${d >= 0 ? "+" : ""}${d.toFixed(3)}`}`,
    );
  }
  if (report.latencyMs) lines.push(`  loop latency p50 ${report.latencyMs.p50} ms, p95 ${report.latencyMs.p95} ms`);
  lines.push(`report: ${report.files.md}`);
  return lines.join("\n");
}
