import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

import { Command, Option } from "commander";

import { collect, examples, globalOptions, withCommonOptions } from "../../cli/options.js";
import type { Output } from "../../cli/output.js";
import { writeJsonAtomic } from "../../core/atomic.js";
import { canonicalJson, fileHash, sha256 } from "../../core/canonical.js";
import { PROFILES } from "../../core/contract.js";
import { badInput, ExitCode, ForgeError } from "../../core/errors.js";
import { exists } from "../../core/files.js";
import { outputHashes, type StageFinish, withStage } from "../../core/state.js";
import {
  countGpus,
  type DryRunDone,
  requireTrainerPython,
  runTrainer,
  type TrainDone,
  trainerError,
  type TrainerRun,
} from "../../core/trainer-process.js";
import { stageAction, type StageResult } from "../stage.js";
import { estimateOf, outcomeText, parseTimeBudget } from "./budget.js";
import { makeProgressView } from "./progress.js";

export const RESUME_COMMAND = "mcp-forge train --resume";

interface TrainOptions {
  workdir: string;
  json: boolean;
  data?: string;
  evalData?: string;
  model: string;
  revision?: string;
  profile: string;
  resume: boolean;
  set: string[];
  timeBudget?: string;
  dryRun: boolean;
}

/** `--set key=value`: numbers and booleans as such, everything else a string. */
export function parseSets(sets: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of sets) {
    const match = /^([a-z_][a-z0-9_.]*)=(.*)$/i.exec(item);
    if (!match) throw badInput(`--set ${item}: expected key=value (e.g. --set learning_rate=1e-4)`);
    const [, key, raw] = match as unknown as [string, string, string];
    out[key] =
      raw === "true" ? true : raw === "false" ? false : raw !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return out;
}

export function trainCommand(): Command {
  return stageAction(
    withCommonOptions(
      new Command("train")
        .description("LoRA fine-tune a chat model on the samples (Python trainer; progress bar on a terminal)")
        .option("--data <file>", "training JSONL (default: <workdir>/data/train.jsonl)")
        .option(
          "--eval-data <file>",
          "held-out JSONL for the eval loss (default: <workdir>/data/eval.jsonl if present)",
        )
        .option(
          "--model <name>",
          "preset (tiny, smollm2-135m, gemma3-270m, qwen2.5-0.5b … qwen2.5-7b, llama-3.2-1b/3b, deepseek-r1-distill-qwen-1.5b/7b), a .gguf file, Hugging Face id or local path",
          "tiny",
        )
        .option("--revision <rev>", "pin the Hugging Face revision (commit, tag or branch)")
        .addOption(new Option("--profile <name>", "training profile").choices([...PROFILES]).default("fast_dev"))
        .option("--resume", "continue from the latest checkpoint in <workdir>/model/checkpoints", false)
        .option(
          "--set <key=value>",
          "override a setting (repeatable): learning_rate, epochs, max_steps, lora_r, batch_size, save_steps, tiny.pretrain_epochs …",
          collect,
          [],
        )
        .option(
          "--time-budget <minutes>",
          "finish training within this many minutes: steps (and the tiny model's pre-training) are planned from the throughput measured here, and training stops cleanly at the budget (default: no limit)",
        )
        .option(
          "--dry-run",
          "print only the estimate (tokens, tokens/s measured here, minutes): train nothing, write nothing",
          false,
        )
        .addHelpText(
          "after",
          examples(
            "mcp-forge train",
            "mcp-forge train --model qwen2.5-0.5b --profile balanced",
            "mcp-forge train --data data/train.jsonl --set max_steps=20 --set save_steps=5",
            "mcp-forge train --time-budget 15",
            "mcp-forge train --dry-run",
            RESUME_COMMAND,
          ),
        ),
    ),
    trainStage,
  );
}

/** The command's work, called by its action and by `run`. */
export async function trainStage(opts: TrainOptions, output: Output): Promise<StageResult> {
  const { workdir } = globalOptions(opts);
  await requireTrainerPython();
  const data = resolve(opts.data ?? join(workdir, "data", "train.jsonl"));
  if (!(await exists(data))) {
    throw badInput(
      `training data ${data} does not exist`,
      "run `mcp-forge generate` first, or pass --data <file.jsonl>",
    );
  }
  const defaultEval = join(workdir, "data", "eval.jsonl");
  const evalData = opts.evalData ? resolve(opts.evalData) : (await exists(defaultEval)) ? defaultEval : undefined;
  const modelDir = join(workdir, "model");
  const budgetMinutes = opts.timeBudget === undefined ? 0 : parseTimeBudget(opts.timeBudget);
  const config = {
    ...parseSets(opts.set),
    ...(budgetMinutes > 0 ? { time_budget_seconds: budgetMinutes * 60 } : {}),
    data,
    ...(evalData ? { eval_data: evalData } : {}),
    output_dir: modelDir,
    model: opts.model,
    ...(opts.revision ? { revision: opts.revision } : {}),
    profile: opts.profile,
  };
  const gpus = opts.model === "tiny" ? 0 : await countGpus();
  if (opts.dryRun) {
    await dryRun(config, gpus, output);
    return;
  }
  const configFile = join(modelDir, "train-config.json");
  await writeJsonAtomic(configFile, config);
  const logFile = join(workdir, "logs", "train.log");
  const report = join(workdir, "reports", "train_report.json");
  const view = makeProgressView(process.stderr);
  let running: Promise<TrainerRun<TrainDone>> | undefined;
  let stopped: TrainerRun<TrainDone> | undefined;
  const interruptedRecord = (run: TrainerRun | undefined, message: string): StageFinish => ({
    status: "interrupted",
    outputs: {},
    summary: { resume: RESUME_COMMAND, lastStep: lastStep(run) },
    error: `${message}; resume with \`${RESUME_COMMAND}\``,
  });
  const {
    value: { done, summary },
  } = await withStage(
    workdir,
    "TRAINING",
    {
      inputs: { data: await fileHash(data), config: `sha256:${sha256(canonicalJson(config))}` },
      finish: async ({ done, summary }) => ({
        outputs: await outputHashes(workdir, [join(done.adapterPath, "adapter_model.safetensors")]),
        summary: { ...summary, report },
      }),
      failed: (error) =>
        error instanceof ForgeError && error.exitCode === ExitCode.interrupted
          ? interruptedRecord(stopped, error.message)
          : undefined,
      interrupted: async () => {
        const run = await running?.catch(() => undefined);
        view.stop();
        return interruptedRecord(run, "interrupted");
      },
    },
    async () => {
      running = runTrainer<TrainDone>(["train", "--config", configFile, ...(opts.resume ? ["--resume"] : [])], {
        logFile,
        gpus,
        onEvent: (e) => view.onEvent(e),
      });
      const run = await running;
      view.stop();
      if (!run.done || run.exitCode !== 0) {
        const error = trainerError(run, logFile);
        if (error.exitCode !== ExitCode.interrupted) throw error;
        stopped = run;
        throw new ForgeError(ExitCode.interrupted, error.message, `resume with \`${RESUME_COMMAND}\``);
      }
      const summary = {
        ...run.done,
        event: undefined,
        time: undefined,
        model: opts.model,
        profile: opts.profile,
        log: logFile,
        timeBudgetMinutes: budgetMinutes || null,
        fractionTrained: run.done.budget.fraction,
        estimate: estimateOf(run.events.find((e) => e.event === "estimate")),
      };
      await writeJsonAtomic(report, summary);
      return { done: run.done, summary };
    },
  );
  const adapterDir = done.adapterPath;
  const budget = done.budget;
  output.result({ adapter: adapterDir, ...summary, report });
  output.say(
    `trained ${opts.model} (${opts.profile}): loss ${Number(done.firstLoss).toFixed(3)} → ${Number(done.finalLoss).toFixed(3)}` +
      ` in ${done.timings.totalSeconds}s; adapter: ${adapterDir}` +
      `\n${outcomeText(budget)}\nreport: ${report}\nnext: mcp-forge export --quant q8_0`,
  );
}

/**
 * `train --dry-run`: the trainer measures and estimates in scratch folders; the config and its log
 * live in a temporary folder too, so the work directory is left as it was.
 */
async function dryRun(
  config: Record<string, unknown>,
  gpus: number,
  output: ReturnType<typeof globalOptions>["output"],
): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), "mcp-forge-dry-run-"));
  try {
    const configFile = join(scratch, "train-config.json");
    await writeJsonAtomic(configFile, config);
    const logFile = join(scratch, "train.log");
    const view = makeProgressView(process.stderr);
    const run = await runTrainer<DryRunDone>(["train", "--config", configFile, "--dry-run"], {
      logFile,
      gpus,
      onEvent: (e) => view.onEvent(e),
    });
    view.stop();
    if (!run.done || run.exitCode !== 0) {
      const error = trainerError(run, logFile);
      throw new ForgeError(error.exitCode, error.message, run.error?.hint ? String(run.error.hint) : undefined);
    }
    output.result({ dryRun: true, estimate: run.done.estimate });
    output.say("dry run: nothing was trained or written");
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function lastStep(run: TrainerRun | undefined): number | undefined {
  const steps = run?.events.filter((e) => e.event === "step" && e.phase === "lora") ?? [];
  return steps.length ? Number(steps[steps.length - 1]!.step) : undefined;
}
