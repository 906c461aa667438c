import { Command } from "commander";

import { examples, globalOptions, withCommonOptions } from "../../cli/options.js";
import type { Output } from "../../cli/output.js";
import { ExitCode } from "../../core/errors.js";
import { outputHashes, withStage } from "../../core/state.js";
import { runValidation, type ValidationReport } from "../../eval/validation.js";
import { stageAction, type StageResult } from "../stage.js";
import { addEvalOptions, type EvalCliOptions, evalInputsFromOptions, progressPrinter } from "./options.js";

export function validateCommand(): Command {
  const command = new Command("validate").description(
    "looped validation: each held-out prompt runs model → tool call → result → answer against a real server or the stub; exits 1 below a threshold",
  );
  addEvalOptions(command)
    .option("--constrained", "constrain decoding with a grammar built from the tools' schemas (GGUF only)", false)
    .option("--transcripts", "write every transcript into the reports, not only failed runs", false)
    .option("--report-dir <dir>", "where validation.{json,md} go (default <workdir>/reports)")
    .addHelpText(
      "after",
      examples(
        "mcp-forge validate --stub",
        'mcp-forge validate --model .mcp-forge/model.gguf --server "npx -y @modelcontextprotocol/server-memory"',
        'mcp-forge validate --server "node server.js" --execute all --transcripts',
        "mcp-forge validate --model openai:gpt-4o-mini --stub --json",
      ),
    );
  return stageAction(withCommonOptions(command), validateStage);
}

/** The command's work, called by its action and by `run`. */
export async function validateStage(
  opts: EvalCliOptions & { json: boolean; constrained: boolean; transcripts: boolean; reportDir?: string },
  output: Output,
): Promise<StageResult> {
  const { workdir } = globalOptions(opts);
  const inputs = evalInputsFromOptions(opts, workdir);
  const { value: report } = await withStage(
    workdir,
    "VALIDATING",
    {
      inputs: { model: inputs.model, tools: inputs.toolsPath, eval: inputs.evalPath },
      finish: async (report) => ({
        outputs: await outputHashes(workdir, [report.files.json, report.files.md]),
        summary: { passed: report.passed, metrics: report.metrics, counts: report.counts },
        ...(report.passed
          ? {}
          : {
              status: "failed" as const,
              error: `below threshold: ${report.thresholdFailures.map((f) => f.metric).join(", ")}`,
            }),
      }),
    },
    () =>
      runValidation({
        ...inputs,
        backendOptions: { ...inputs.backendOptions, constrained: opts.constrained },
        transcripts: opts.transcripts,
        ...(opts.reportDir ? { reportDir: opts.reportDir } : {}),
        onProgress: (done, total) => progressPrinter(output.info)("validate", done, total),
      }),
  );
  output.result({
    passed: report.passed,
    metrics: report.metrics,
    counts: report.counts,
    thresholdFailures: report.thresholdFailures,
    files: report.files,
  });
  output.say(summaryLines(report));
  if (!report.passed) return ExitCode.gateFailed;
}

function summaryLines(report: ValidationReport): string {
  const lines = [
    `validation ${report.passed ? "PASSED" : "FAILED"} on ${report.counts.prompts} prompts (calls: ${report.calls.target})`,
  ];
  for (const [metric, value] of Object.entries(report.metrics))
    lines.push(`  ${metric.padEnd(22)} ${value === null ? "–" : value.toFixed(3)}`);
  for (const f of report.thresholdFailures) lines.push(`  ✗ ${f.metric} ${f.value.toFixed(3)} < ${f.threshold}`);
  lines.push(`report: ${report.files.md}`);
  return lines.join("\n");
}
