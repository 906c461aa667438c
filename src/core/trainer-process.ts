import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

import { execa } from "execa";

import { environmentMissing, ExitCode, ForgeError } from "./errors.js";
import { findTrainerPython, PACKAGE_ROOT, SETUP_PYTHON_COMMAND, type TrainerPython } from "./python.js";
import { onShutdown } from "./shutdown.js";

/** One line of the trainer's progress protocol (python/mcp_forge_trainer/protocol.py). */
export interface TrainerEvent {
  event: "start" | "step" | "checkpoint" | "done" | "error" | "oom" | "resume" | "warning" | "tiny_base" | string;
  time: number;
  [key: string]: unknown;
}

/*
 * The trainer's results (python/mcp_forge_trainer/results.py, the same names and keys:
 * tests/core/contract.test.ts compares them): the `done` event of `train`, `train --dry-run` and
 * `export`, and the records inside them.
 */

/** The rendered training set, in tokens of the model's tokenizer. */
export interface DatasetStats {
  sequences: number;
  tokens: number;
  assistantTokens: number;
  maxLength: number;
  meanLength: number;
  truncated: number;
  truncatedAssistantTokens: number;
}

export interface EstimatePhase {
  phase: string;
  steps: number;
  fullSteps: number;
  tokens: number;
  fullTokens: number;
  tokensPerSecond: number;
  seconds: number;
}

/** The trainer's `estimate` event (python/mcp_forge_trainer/budget.py): what this training will take. */
export interface TrainingEstimate {
  tokens: number;
  fullTokens: number;
  tokensPerSecond: number;
  seconds: number;
  fullSeconds: number;
  budgetSeconds: number | null;
  fraction: number;
  phases: EstimatePhase[];
  dryRun: boolean;
}

export interface BudgetPhase {
  phase: string;
  steps: number;
  plannedSteps: number;
  fullSteps: number;
  tokens: number;
  fullTokens: number;
  seconds: number;
  estimatedSeconds: number;
}

/** The `budget` of the trainer's `done` event: how much of the recipe was trained, and the estimate's error. */
export interface BudgetReport {
  budgetSeconds: number | null;
  fraction: number;
  /** `plan`: fewer steps were planned to fit; `deadline`: a loop ran slower than measured and was stopped. */
  cut: "plan" | "deadline" | null;
  phases: BudgetPhase[];
  estimatedSeconds: number;
  actualSeconds: number;
  estimateError: number | null;
  /** The same in the trainer's own CPU time, which other processes' load does not change. */
  cpuEstimateError: number | null;
  fullSeconds: number | null;
  /** Seconds of start-up (imports, tokenizer, measuring) before the plan: what no budget shortens. */
  plannedAtSeconds: number | null;
}

export interface TrainTimings {
  /** The tiny model only: building and pre-training its base. */
  tinyBaseSeconds?: number;
  trainSeconds: number;
  totalSeconds: number;
}

/** `train`'s `done` event. */
export interface TrainDone {
  finalLoss: number | null;
  firstLoss: number | null;
  evalLoss: number | null;
  adapterPath: string;
  steps: number;
  timings: TrainTimings;
  tokensPerSecond: number;
  datasetStats: DatasetStats;
  trainingConfigHash: string;
  backend: string;
  budget: BudgetReport;
}

/** `train --dry-run`'s `done` event: the estimate, nothing trained. */
export interface DryRunDone {
  dryRun: true;
  estimate: TrainingEstimate | null;
}

export interface ExportTimings {
  mergeSeconds: number;
  convertSeconds: number;
  quantizeSeconds: number;
}

/** The GGUF loaded by llama.cpp and a few tokens generated. */
export interface VerifyResult {
  generatedTokens: number;
  sample: string;
  seconds: number;
}

/** `export`'s `done` event. */
export interface ExportDone {
  path: string;
  sizeBytes: number;
  quant: string;
  timings: ExportTimings;
  /** null with `--no-verify`. */
  verify: VerifyResult | null;
  /** The mcp_forge.* metadata keys written into the GGUF. */
  metadata: string[];
}

/** A trainer run: its events, and its `done` event as the command's result `Done` (`TrainDone`, …). */
export interface TrainerRun<Done = object> {
  events: TrainerEvent[];
  done?: Done & { event: "done"; time: number };
  error?: TrainerEvent;
  exitCode: number;
  interrupted: boolean;
}

/** Exit codes of the contract for the trainer's error kinds. */
const KIND_EXIT: Record<string, number> = {
  bad_input: ExitCode.badInput,
  environment: ExitCode.environment,
  model_not_found: ExitCode.environment,
  oom: ExitCode.environment,
  interrupted: ExitCode.interrupted,
};

export function exitCodeForKind(kind: unknown): number {
  return KIND_EXIT[String(kind)] ?? ExitCode.gateFailed;
}

/** The trainer's error event as the ForgeError the CLI reports. */
export function trainerError(run: TrainerRun, logFile: string): ForgeError {
  const e = run.error;
  if (!e) {
    return new ForgeError(
      ExitCode.environment,
      `the trainer exited with code ${run.exitCode} without a result`,
      `see ${logFile}`,
    );
  }
  const hint = [e.hint, `trainer log: ${logFile}`].filter(Boolean).join("; ");
  return new ForgeError(exitCodeForKind(e.kind) as ExitCode, String(e.message), hint);
}

/** The trainer's Python, or exit 3 naming the setup command. */
export async function requireTrainerPython(env: NodeJS.ProcessEnv = process.env): Promise<TrainerPython> {
  const python = await findTrainerPython(env);
  if (!python) {
    throw environmentMissing(
      `the trainer's Python environment is missing (${env.MCP_FORGE_PYTHON ? `MCP_FORGE_PYTHON=${env.MCP_FORGE_PYTHON}` : "python/.venv"})`,
      `run \`${SETUP_PYTHON_COMMAND}\` from the repository root`,
    );
  }
  return python;
}

/** How many GPUs nvidia-smi lists (0 without NVIDIA drivers): more than one means `accelerate launch`. */
export async function countGpus(): Promise<number> {
  const result = await execa("nvidia-smi", ["-L"], { reject: false, timeout: 10_000 });
  return result.exitCode === 0
    ? String(result.stdout)
        .split("\n")
        .filter((l) => l.startsWith("GPU ")).length
    : 0;
}

/**
 * The environment the trainer's Python runs in: `env` with python/ on PYTHONPATH (the package, and
 * the benchmarks in python/bench), unbuffered output.
 */
export function trainerEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...env,
    PYTHONPATH: [join(PACKAGE_ROOT, "python"), process.env.PYTHONPATH].filter(Boolean).join(":"),
    PYTHONUNBUFFERED: "1",
    TOKENIZERS_PARALLELISM: "false",
  };
}

/** The progress protocol read from the trainer's stdout: each line that is a JSON object, as an event. */
export async function* protocolEvents(stdout: Readable): AsyncGenerator<TrainerEvent> {
  for await (const line of createInterface({ input: stdout })) {
    if (!line.trim().startsWith("{")) continue;
    let event: TrainerEvent;
    try {
      event = JSON.parse(line) as TrainerEvent;
    } catch {
      continue;
    }
    yield event;
  }
}

/**
 * Runs `python -m mcp_forge_trainer <args>`, parsing the progress protocol from stdout and writing
 * the trainer's own log (stderr) to `logFile`. Ctrl-C / SIGTERM are passed on to the trainer, which
 * checkpoints and exits; this waits for it. `Done` is the command's `done` event (`TrainDone`,
 * `DryRunDone`, `ExportDone`).
 */
export async function runTrainer<Done = object>(
  args: string[],
  options: {
    logFile: string;
    onEvent?: (event: TrainerEvent) => void;
    gpus?: number;
    env?: NodeJS.ProcessEnv;
  },
): Promise<TrainerRun<Done>> {
  const python = await requireTrainerPython(options.env);
  const gpus = options.gpus ?? 0;
  const command =
    gpus > 1
      ? ["-m", "accelerate.commands.launch", "--num_processes", String(gpus), "-m", "mcp_forge_trainer", ...args]
      : ["-m", "mcp_forge_trainer", ...args];
  await mkdir(dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: "a" });
  const child = execa(python.path, command, {
    reject: false,
    stdin: "ignore",
    // The trainer finishes its step and writes a checkpoint after SIGTERM; that can take a while.
    forceKillAfterDelay: false,
    env: trainerEnv(options.env),
  });
  child.stderr?.pipe(log);
  let interrupted = false;
  const stopOnSignal = onShutdown(async () => {
    interrupted = true;
    child.kill("SIGTERM");
    await child;
  });
  const run: TrainerRun<Done> = { events: [], exitCode: 0, interrupted: false };
  for await (const event of protocolEvents(child.stdout!)) {
    run.events.push(event);
    if (event.event === "done") run.done = event as unknown as TrainerRun<Done>["done"];
    if (event.event === "error") run.error = event;
    options.onEvent?.(event);
  }
  const result = await child;
  stopOnSignal();
  await new Promise<void>((resolve) => log.end(resolve));
  run.exitCode = result.exitCode ?? (result.signal ? ExitCode.interrupted : 1);
  run.interrupted = interrupted || run.error?.kind === "interrupted";
  return run;
}
