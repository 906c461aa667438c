import { join, resolve } from "node:path";

import { Command, CommanderError, Option } from "commander";

import { MAX_SAMPLES, parseCount, parseSeed } from "../../cli/bounds.js";
import { collect, examples, globalOptions, withCommonOptions } from "../../cli/options.js";
import type { Output } from "../../cli/output.js";
import { ExitCode, PROFILES, QUANTS } from "../../core/contract.js";
import { badInput, ForgeError } from "../../core/errors.js";
import { redactSecrets } from "../../core/redact.js";
import { loadState, type Stage, STAGES } from "../../core/state.js";
import { type BudgetReport, countGpus } from "../../core/trainer-process.js";
import { addServerOptions, serverTargetFromOptions, timeoutMsFromOptions } from "../../mcp/server-options.js";
import { callStage, stageAction, type StageResult } from "../stage.js";
import { missingMinutes, parseTimeBudget } from "../train/budget.js";
import { checkEvalFile } from "../validate/options.js";
import { DEFAULT_CPU_BUDGET_MINUTES } from "./budget.js";
import { readRunConfig, type RunConfig } from "./config.js";
import { type CommandRunner, defaultServer, runPipeline, type StageOutcome } from "./pipeline.js";

/** The main command's base model: of the three CPU models it picks the right tool most often on hand-written requests (docs/benchmarks.md). */
export const DEFAULT_RUN_MODEL = "smollm2-135m";

/**
 * Training samples `run` synthesizes for a model unless told: the tiny model starts from nothing, so
 * it learns from many samples (4,000 pick the right tool on the held-out split for 0.92, 500 for
 * 0.46); SmolLM2 sees about 250 in the main command's training minutes, and 300 keep its held-out
 * split, which it grades at 4 s a prompt, to 35 prompts (docs/benchmarks.md). Other models get
 * generate's default.
 */
const RUN_SAMPLES: Readonly<Record<string, number>> = { tiny: 4000, [DEFAULT_RUN_MODEL]: 300 };

interface RunCliOptions extends Record<string, unknown> {
  workdir: string;
  json: boolean;
  config?: string;
  resume: boolean;
  dryRun: boolean;
  from: Stage;
  to: Stage;
}

export function runCommand(): Command {
  const command = new Command("run")
    .description(
      "the whole pipeline: inspect → generate → qa → train → export → validate → benchmark → pack; " +
        "stages whose inputs did not change are skipped. Without --server/--url/--tools it runs the embedded " +
        "default: @modelcontextprotocol/server-memory, the offline generator and SmolLM2 135M fine-tuned on the CPU",
    )
    .option("--tools <file>", "start from a tools file (tools.json, OpenAI tools, YAML) instead of a live server")
    .option(
      "--config <file>",
      "mcp-forge.yaml: its run: section sets any option below (default ./mcp-forge.yaml when present)",
    )
    .option(
      "--model <name>",
      `base model: tiny, a preset (smollm2-135m, gemma3-270m, qwen2.5-0.5b, …), a .gguf file, a Hugging Face id or a local path (default ${DEFAULT_RUN_MODEL})`,
    )
    .addOption(new Option("--profile <name>", "training profile (default fast_dev)").choices([...PROFILES]))
    .option(
      "--samples <n>",
      `training samples to synthesize (default: ${Object.entries(RUN_SAMPLES)
        .map(([m, n]) => `${n} for ${m}`)
        .join(", ")}, else generate's)`,
    )
    .option("--seed <n>", "synthesis seed (default: generate's)")
    .option(
      "--set <key=value>",
      "trainer setting passed to `train --set` (repeatable), e.g. --set max_steps=50",
      collect,
    )
    .addOption(new Option("--quant <type>", "GGUF quantisation (default q8_0)").choices([...QUANTS]))
    .option("--execute <mode>", "which tools may really run during generate: readonly, all, none (default readonly)")
    .option("--stub", "validate against a stub server built from the recorded results, not the live server")
    .option(
      "--eval <file>",
      "grade validate and benchmark on this hand-written eval set (the JSONL chat format of data/eval.jsonl) instead of the generated held-out split; the bundle records its name and hash",
    )
    .option(
      "--time-budget <minutes>",
      `minutes the whole run may take: training is planned to fit what the other stages leave, from the throughput measured here (default ${DEFAULT_CPU_BUDGET_MINUTES} on a machine without a GPU, else no limit; 0: no limit)`,
    )
    .option(
      "--dry-run",
      "prepare the data (inspect, generate, qa), print training's estimate and stop: nothing is trained",
      false,
    )
    .option("-o, --output <dir>", "bundle folder (default <workdir>/bundle)")
    .option("--resume", "continue an interrupted run; training goes on from its last checkpoint", false)
    .addOption(new Option("--from <stage>", "first stage to run").choices([...STAGES]).default(STAGES[0]))
    .addOption(new Option("--to <stage>", "last stage to run").choices([...STAGES]).default(STAGES[STAGES.length - 1]))
    .addHelpText(
      "after",
      examples(
        "mcp-forge run",
        'mcp-forge run --server "npx -y @modelcontextprotocol/server-filesystem /data" --samples 1000',
        "mcp-forge run --tools tools.json --model qwen2.5-1.5b --profile balanced --quant q4_k_m",
        "mcp-forge run --eval tests/human.jsonl",
        "mcp-forge run --resume",
        "mcp-forge run --from TRAINING --to EXPORTING",
        'mcp-forge run --server "npx -y @modelcontextprotocol/server-sequential-thinking" --dry-run',
        "mcp-forge run --time-budget 30",
      ),
    );
  return stageAction(withCommonOptions(addServerOptions(command)), runStage);
}

/** The command's work, called by its action and by `run`. */
export async function runStage(opts: RunCliOptions, output: Output): Promise<StageResult> {
  const { workdir } = globalOptions(opts);
  const { file, text, config } = await readRunConfig(opts.config);
  const merged = { ...config, ...definedOnly(opts) } as RunConfig & RunCliOptions;
  if (STAGES.indexOf(opts.from) > STAGES.indexOf(opts.to))
    throw badInput(`--from ${opts.from} comes after --to ${opts.to}`);
  const tools = typeof merged.tools === "string" ? resolve(merged.tools) : undefined;
  let target = serverTargetFromOptions(merged);
  let serverArgs = serverArgsOf(merged);
  if (tools && target) throw badInput("pass either --tools or --server/--url, not both");
  if (!tools && !target) ({ target, args: serverArgs } = defaultServer(workdir));
  const model = String(merged.model ?? DEFAULT_RUN_MODEL);
  const evalSet = merged.eval !== undefined ? await checkEvalFile(String(merged.eval)) : undefined;
  const timeBudget = await runBudget(merged.timeBudget);
  if (opts.dryRun && STAGES.indexOf(opts.from) > STAGES.indexOf("TRAINING")) {
    throw badInput(`--dry-run estimates training: --from ${opts.from} comes after TRAINING`);
  }
  const outcomes = await runPipeline(
    {
      workdir,
      ...(target ? { target } : {}),
      serverArgs,
      ...(tools ? { toolsFile: tools } : {}),
      ...(file ? { config: { file, text } } : {}),
      model,
      profile: String(merged.profile ?? "fast_dev"),
      ...(merged.samples !== undefined
        ? { samples: parseCount(merged.samples, "--samples", { min: 1, max: MAX_SAMPLES }) }
        : RUN_SAMPLES[model] !== undefined
          ? { samples: RUN_SAMPLES[model] }
          : {}),
      ...(merged.seed !== undefined ? { seed: parseSeed(merged.seed) } : {}),
      quant: String(merged.quant ?? "q8_0"),
      output: resolve(String(merged.output ?? join(workdir, "bundle"))),
      stub: Boolean(merged.stub),
      ...(merged.execute !== undefined ? { execute: String(merged.execute) } : {}),
      ...(evalSet ? { evalSet } : {}),
      trainSettings: (merged.set as string[] | undefined) ?? [],
      resume: opts.resume,
      from: opts.from,
      to: opts.dryRun && STAGES.indexOf(opts.to) > STAGES.indexOf("TRAINING") ? "TRAINING" : opts.to,
      timeoutMs: timeoutMsFromOptions(merged),
      ...(timeBudget ? { timeBudgetMinutes: timeBudget } : {}),
      dryRun: opts.dryRun,
    },
    runInProcess(output.json),
    ({ stage, index, total, phase, outcome }) => {
      if (phase === "start") output.info(`\n▶ [${index + 1}/${total}] ${stage}`);
      else if (outcome) output.info(`${outcome.exitCode === ExitCode.ok ? "✓" : "✗"} ${stage} ${describe(outcome)}`);
    },
  );
  const failed = outcomes.find((o) => o.status === "failed");
  const gates = outcomes.filter((o) => o.exitCode === ExitCode.gateFailed && o.status !== "failed");
  const bundle = outcomes.some((o) => o.stage === "PACKAGING" && o.status !== "failed")
    ? resolve(String(merged.output ?? join(workdir, "bundle")))
    : null;
  const training =
    outcomes.some((o) => o.stage === "TRAINING" && o.status !== "failed") && !opts.dryRun
      ? await trainingBudget(workdir)
      : undefined;
  output.result({
    passed: !failed && gates.length === 0,
    stages: outcomes,
    bundle,
    ...(opts.dryRun ? { dryRun: true } : {}),
    ...(training ? { training } : {}),
  });
  output.say(`\n${summaryTable(outcomes)}`);
  if (opts.dryRun && !failed) output.say("\ndry run: the data are ready; nothing was trained (the estimate is above)");
  if (training?.cut) {
    output.say(
      `\nthe time budget cut training to ${Math.round(training.fraction * 100)} % of the recipe; ` +
        `for all of it: mcp-forge run --time-budget ${Math.ceil((timeBudget ?? 0) + missingMinutes(training))} (or --time-budget 0: no limit)`,
    );
  }
  if (failed) {
    output.say(`\nstopped at ${failed.stage} (exit ${failed.exitCode}); fix the cause, then: mcp-forge run --resume`);
    return failed.exitCode as ExitCode;
  }
  if (bundle) output.say(`\nbundle: ${bundle}\nnext: mcp-forge verify-bundle ${bundle}`);
  if (gates.length > 0) {
    output.say(`\nquality gate failed at ${gates.map((g) => g.stage).join(", ")}: see ${join(workdir, "reports")}`);
    return ExitCode.gateFailed;
  }
}

/**
 * Each stage's command runs in this process on the arguments `stageCommands` gave it: its stage
 * function is called directly, with an output whose human text goes to stdout, or to stderr under
 * `run --json` (keeping stdout for run's result); its own result is not printed.
 */
const runInProcess =
  (json: boolean): CommandRunner =>
  async (command, args) => {
    const output: Output = {
      json: false,
      say: (text) => (json ? process.stderr : process.stdout).write(`${text}\n`),
      info: (text) => process.stderr.write(`${text}\n`),
      result: () => undefined,
    };
    try {
      return await callStage(await command(), args, output);
    } catch (error) {
      if (error instanceof ForgeError) {
        process.stderr.write(redactSecrets(error.report));
        return error.exitCode;
      }
      if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
      throw error;
    }
  };

/** The run's budget in minutes: the option or mcp-forge.yaml's timeBudget, else the default without a GPU; 0 (none) as undefined. */
async function runBudget(value: unknown): Promise<number | undefined> {
  const minutes =
    value !== undefined ? parseTimeBudget(value) : (await countGpus()) === 0 ? DEFAULT_CPU_BUDGET_MINUTES : 0;
  return minutes > 0 ? minutes : undefined;
}

/** How much of the recipe TRAINING did, as its stage summary in state.json records it. */
async function trainingBudget(workdir: string): Promise<BudgetReport | undefined> {
  const summary = (await loadState(workdir)).stages.TRAINING?.summary;
  return (summary?.budget as BudgetReport | undefined) ?? undefined;
}

function definedOnly(opts: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
}

function serverArgsOf(opts: Record<string, unknown>): string[] {
  const args: string[] = [];
  const list = (v: unknown) => (Array.isArray(v) ? (v as string[]) : v === undefined ? [] : [String(v)]);
  if (opts.server !== undefined) args.push("--server", String(opts.server));
  if (opts.url !== undefined) args.push("--url", String(opts.url));
  for (const e of list(opts.env)) args.push("--env", e);
  for (const h of list(opts.header)) args.push("--header", h);
  if (opts.cwd !== undefined) args.push("--cwd", resolve(String(opts.cwd)));
  if (opts.timeout !== undefined) args.push("--timeout", String(opts.timeout));
  return args;
}

function describe(o: StageOutcome): string {
  if (o.status === "skipped")
    return o.exitCode === ExitCode.ok ? "up to date, skipped" : "up to date, skipped (its gate failed)";
  if (o.status === "gate-failed") return `ran in ${o.seconds.toFixed(1)} s; its quality gate failed`;
  return `${o.status === "failed" ? `failed (exit ${o.exitCode})` : "done"} in ${o.seconds.toFixed(1)} s`;
}

export function summaryTable(outcomes: StageOutcome[]): string {
  const rows = outcomes.map(
    (o) => `| ${o.stage} | ${o.status} | ${o.status === "skipped" ? "–" : `${o.seconds.toFixed(1)} s`} |`,
  );
  const total = outcomes.reduce((sum, o) => sum + o.seconds, 0);
  return ["| stage | result | time |", "| --- | --- | --- |", ...rows, `| total | | ${total.toFixed(1)} s |`].join(
    "\n",
  );
}
