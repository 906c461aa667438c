import { join, resolve } from "node:path";

import { Command, Option } from "commander";

import { parseSeed } from "../../cli/bounds.js";
import { examples, globalOptions, withCommonOptions } from "../../cli/options.js";
import type { Output } from "../../cli/output.js";
import { readForgeConfig, resolveMix } from "../../core/config.js";
import { badInput, gateFailed } from "../../core/errors.js";
import { addServerOptions, serverTargetFromOptions, timeoutMsFromOptions } from "../../mcp/server-options.js";
import { formatQcSummary } from "../qa/command.js";
import { stageAction, type StageResult } from "../stage.js";
import { DEFAULTS, formatTally, generateDataset, type GenerateResult } from "./generate.js";
import { llmSettings } from "./llm-options.js";
import type { ExecuteMode } from "./plan.js";

interface GenerateCliOptions {
  workdir: string;
  json: boolean;
  tools?: string;
  out?: string;
  samples?: string;
  seed?: string;
  /** commander files `--no-tool-ratio <r>` under `toolRatio` (a "no-" prefix means negation to it); true when absent. */
  toolRatio?: string | boolean;
  errorRatio?: string;
  evalRatio?: string;
  augmentFactor?: string;
  execute?: string;
  callTimeout?: string;
  config?: string;
  llm: boolean;
  llmBaseUrl?: string;
  llmModel?: string;
  llmApiKeyEnv?: string;
  llmSeedShare?: string;
  llmRewordShare?: string;
  cacheDir?: string;
  concurrency?: string;
  gate: boolean;
  continueOnServerCrash: boolean;
  progress: boolean;
  [key: string]: unknown;
}

const num = (value: string | undefined, flag: string): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw badInput(`${flag} ${value}: expected a number`);
  return n;
};

export function generateCommand(): Command {
  const command = new Command("generate")
    .description("synthesize training samples (and a held-out eval split) for a toolset, then run the QC gate")
    .option("--tools <file>", "tools.json to generate for (default <workdir>/tools.json, or the --server's tools)")
    .option(
      "--out <file>",
      "training split (default <workdir>/data/train.jsonl); the eval split goes beside it (eval.jsonl, or <name>.eval.jsonl)",
    )
    .option("--samples <n>", `training samples (default ${DEFAULTS.samples})`)
    .option("--seed <n>", `random seed; the same seed gives the same offline dataset (default ${DEFAULTS.seed})`)
    .option("--no-tool-ratio <r>", "share of no_tool samples (contract default 0.15)")
    .option("--error-ratio <r>", "share of error samples (contract default 0.10)")
    .option(
      "--eval-ratio <r>",
      `held-out evaluation split, as a share of --samples (default ${DEFAULTS.evalRatio}; at least 3 per tool)`,
    )
    .option("--augment-factor <n>", `samples made from each seed (default ${DEFAULTS.augmentFactor})`)
    .addOption(
      new Option(
        "--execute <mode>",
        "which tools run on the live server: readonly (readOnlyHint tools), all (accepts side effects), none",
      ).choices(["readonly", "all", "none"]),
    )
    .option(
      "--call-timeout <seconds>",
      `limit for one tool call (default ${DEFAULTS.callTimeoutMs / 1000}); a tool that exceeds it gets stub results`,
    )
    .option("--config <file>", "mcp-forge.yaml with generate: and qa: sections (default ./mcp-forge.yaml when present)")
    .option(
      "--llm",
      "write seed conversations with an LLM (any OpenAI-compatible endpoint: OpenAI, Ollama, llama.cpp's server, vLLM) instead of the offline generator",
      false,
    )
    .option(
      "--llm-base-url <url>",
      "OpenAI-compatible endpoint (default https://api.openai.com/v1), e.g. http://127.0.0.1:11434/v1 for Ollama",
    )
    .option(
      "--llm-model <name>",
      "model for --llm (default gpt-4o on OpenAI; elsewhere the one model the endpoint lists)",
    )
    .option(
      "--llm-api-key-env <NAME>",
      "environment variable holding the API key (default OPENAI_API_KEY; an endpoint on loopback needs none)",
    )
    .option(
      "--llm-seed-share <r>",
      "share of the seeds the LLM writes (default 1); the offline generator writes the others and their variants",
    )
    .option(
      "--llm-reword-share <r>",
      "share of an LLM seed's variants the LLM rewords (default 1); the others are reworded offline",
    )
    .option("--cache-dir <dir>", "LLM response cache (default <workdir>/cache/llm)")
    .option("--concurrency <n>", "parallel LLM requests (default 4)")
    .option(
      "--continue-on-server-crash",
      "if the server process dies mid-run, finish with stub results for the calls left (default: stop with exit 2, showing its last stderr lines)",
      false,
    )
    .option("--no-gate", "skip the QC gate at the end")
    .option("--no-progress", "no progress bar or progress lines")
    .addHelpText(
      "after",
      examples(
        "mcp-forge generate --samples 500",
        'mcp-forge generate --server "npx -y @modelcontextprotocol/server-memory" --samples 800 --seed 7',
        "mcp-forge generate --tools tools.json --out data/train.jsonl --no-tool-ratio 0.2 --error-ratio 0.1",
        "OPENAI_API_KEY=… mcp-forge generate --llm --llm-model gpt-4o-mini --concurrency 8",
        "mcp-forge generate --llm --llm-base-url http://127.0.0.1:11434/v1 --llm-model qwen2.5:7b --llm-seed-share 0.5",
      ),
    );
  addServerOptions(command);
  withCommonOptions(command);
  return stageAction(command, generateStage);
}

/** The command's work, called by its action and by `run`. */
export async function generateStage(opts: GenerateCliOptions, output: Output): Promise<StageResult> {
  const { workdir } = globalOptions(opts);
  const config = await readForgeConfig(opts.config);
  const g = config.generate;
  const server = serverTargetFromOptions(opts);
  const execute = (opts.execute ?? g.execute ?? DEFAULTS.execute) as ExecuteMode;
  const fixed = {
    no_tool: num(typeof opts.toolRatio === "string" ? opts.toolRatio : undefined, "--no-tool-ratio") ?? g.noToolRatio,
    error: num(opts.errorRatio, "--error-ratio") ?? g.errorRatio,
  };
  const llm = opts.llm
    ? await llmSettings({
        baseUrl: opts.llmBaseUrl ?? g.llmBaseUrl,
        model: opts.llmModel ?? g.llmModel,
        apiKeyEnv: opts.llmApiKeyEnv,
        cacheDir: resolve(opts.cacheDir ?? join(workdir, "cache", "llm")),
        concurrency: num(opts.concurrency, "--concurrency") ?? g.concurrency ?? 4,
        seedShare: num(opts.llmSeedShare, "--llm-seed-share"),
        rewordShare: num(opts.llmRewordShare, "--llm-reword-share"),
      })
    : undefined;
  const samples = num(opts.samples, "--samples") ?? g.samples;
  const seed = opts.seed !== undefined ? parseSeed(opts.seed) : g.seed;
  const evalRatio = num(opts.evalRatio, "--eval-ratio") ?? g.evalRatio;
  const augmentFactor = num(opts.augmentFactor, "--augment-factor") ?? g.augmentFactor;
  const callTimeout = num(opts.callTimeout, "--call-timeout");
  const result = await generateDataset({
    workdir,
    ...(opts.tools ? { toolsPath: resolve(opts.tools) } : {}),
    ...(server ? { server, timeoutMs: timeoutMsFromOptions(opts) } : {}),
    ...(callTimeout !== undefined ? { callTimeoutMs: callTimeout * 1000 } : {}),
    ...(opts.out ? { out: resolve(opts.out) } : {}),
    ...(samples !== undefined ? { samples } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(evalRatio !== undefined ? { evalRatio } : {}),
    ...(augmentFactor !== undefined ? { augmentFactor } : {}),
    ...(g.toolWeights ? { toolWeights: g.toolWeights } : {}),
    scenarioMix: resolveMix(g.scenarioMix, fixed),
    execute,
    ...(llm ? { llm } : {}),
    progress: opts.progress ? "auto" : "quiet",
    gate: opts.gate,
    continueOnServerCrash: opts.continueOnServerCrash,
    qaThresholds: config.qa,
    log: (line) => output.info(line),
  });
  output.result(summary(result));
  output.say(formatGenerate(result));
  if (result.qc && !result.qc.passed) {
    throw gateFailed(
      `QC gate failed on ${result.trainPath}: ${result.qc.failures.join("; ")}`,
      result.qc.remediation.join("; "),
    );
  }
}

function summary(r: GenerateResult) {
  const { qc, trainPath, evalPath, planPath, train, eval: held, resultSources, executed, counters, llm } = r;
  return {
    trainPath,
    evalPath,
    planPath,
    train,
    eval: held,
    resultSources,
    executed,
    counters,
    ...(llm ? { llm } : {}),
    ...(qc
      ? {
          qc: {
            passed: qc.passed,
            total: qc.total,
            valid: qc.valid,
            schemaPassRate: qc.schemaPassRate,
            failures: qc.failures,
            reports: qc.reports,
          },
        }
      : {}),
  };
}

function formatGenerate(r: GenerateResult): string {
  const sources =
    Object.entries(r.resultSources)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ") || "none";
  const executed =
    Object.entries(r.executed)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ") || "none";
  const lines = [
    `train: ${r.trainPath} (${r.train} samples)`,
    `eval:  ${r.evalPath} (${r.eval} samples, held out)`,
    `plan:  ${r.planPath}`,
    `tool results: ${sources}`,
    `tools executed on the server: ${executed}`,
  ];
  if (r.llm) lines.push(formatTally(r.llm));
  if (r.qc) lines.push("", formatQcSummary(r.qc));
  return lines.join("\n");
}
