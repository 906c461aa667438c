import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

import type { Command } from "commander";

import { canonicalJson, sha256 } from "../../core/canonical.js";
import { ExitCode, ForgeError } from "../../core/errors.js";
import { exists } from "../../core/files.js";
import { loadState, type PipelineState, saveState, type Stage, STAGES } from "../../core/state.js";
import { readToolsFile } from "../../core/toolset.js";
import type { ServerTarget } from "../../mcp/connect.js";
import { COMMANDS } from "../commands.js";
import { inspectServer } from "../inspect/inspect.js";
import { afterTrainingSeconds, trainingMinutes, withTrainingBudget } from "./budget.js";

/** What `run` was asked to do, after the CLI and mcp-forge.yaml were merged and validated. */
export interface RunPlanInput {
  workdir: string;
  /** The live server (also used to execute read-only tools and to validate), or none with `toolsFile`. */
  target?: ServerTarget;
  /** The same server as CLI arguments, passed on to the stages that talk to it. */
  serverArgs: string[];
  toolsFile?: string;
  config?: { file: string; text: string };
  model: string;
  profile: string;
  samples?: number;
  seed?: number;
  quant: string;
  /** `key=value` settings for the trainer. */
  trainSettings: string[];
  output: string;
  stub: boolean;
  execute?: string;
  /** A hand-written eval set that validate and benchmark grade on instead of the generated held-out split. */
  evalSet?: { path: string; hash: string };
  resume: boolean;
  from: Stage;
  to: Stage;
  timeoutMs: number;
  /** Minutes the whole run may take (budget.ts); training gets what is left when it starts. */
  timeBudgetMinutes?: number;
  /** Prepare the data, print training's estimate, and stop: nothing is trained. */
  dryRun?: boolean;
}

export interface StageOutcome {
  stage: Stage;
  /** `gate-failed`: the stage ran but its quality gate failed; the pipeline goes on to pack. */
  status: "ran" | "skipped" | "gate-failed" | "failed";
  seconds: number;
  /** The stage's command line as it ran: TRAINING's with the minutes the run's budget left it. */
  command: string;
  exitCode: number;
}

/** Quality gates that still let the pipeline pack a bundle (whose agent.yaml records the failure). */
const SOFT_GATES: readonly Stage[] = ["VALIDATING", "BENCHMARKING"];
/** The stages that grade the model on an eval set (`--eval`). */
const GRADING: readonly Stage[] = ["VALIDATING", "BENCHMARKING"];

/** One stage as `run` calls it: its command line (also its fingerprint) and its command. */
export interface StageCall {
  args: string[];
  command: () => Promise<Command>;
}

/** Runs one stage's command in this process on its arguments (after the command's name) and returns its exit code. */
export type CommandRunner = (command: () => Promise<Command>, args: string[]) => Promise<number>;

const require = createRequire(import.meta.url);

/** The embedded default: the reference memory server from npm, its graph kept in the work directory. */
export function defaultServer(workdir: string): { target: ServerTarget; args: string[] } {
  const script = require.resolve("@modelcontextprotocol/server-memory/dist/index.js");
  const command = `node ${JSON.stringify(script)}`;
  const env = { MEMORY_FILE_PATH: join(workdir, "memory.jsonl") };
  return {
    target: { kind: "stdio", command, env },
    args: ["--server", command, "--env", `MEMORY_FILE_PATH=${env.MEMORY_FILE_PATH}`],
  };
}

/** The stages `run` goes through, from `input.from` to `input.to`. */
function selectedStages(input: RunPlanInput): Stage[] {
  return STAGES.slice(STAGES.indexOf(input.from), STAGES.indexOf(input.to) + 1);
}

/**
 * The command and CLI arguments of each stage, in pipeline order. When validation runs in the same
 * `run`, the benchmark takes its runs instead of grading every prompt a second time.
 */
export async function stageCommands(input: RunPlanInput): Promise<Record<Stage, StageCall>> {
  const validates = selectedStages(input).includes("VALIDATING");
  const w = ["--workdir", input.workdir];
  const config = input.config ? ["--config", input.config.file] : [];
  const live = input.toolsFile ? [] : input.serverArgs;
  const resumeTraining = input.resume && (await hasCheckpoint(input.workdir));
  const graded = input.evalSet ? ["--eval", input.evalSet.path] : [];
  return {
    INSPECTING: input.toolsFile
      ? { command: COMMANDS.tools, args: ["tools", "import", input.toolsFile, ...w] }
      : { command: COMMANDS.inspect, args: ["inspect", ...input.serverArgs, ...w] },
    SYNTHESIZING: {
      command: COMMANDS.generate,
      args: [
        "generate",
        ...w,
        ...config,
        ...live,
        ...(input.samples !== undefined ? ["--samples", String(input.samples)] : []),
        ...(input.seed !== undefined ? ["--seed", String(input.seed)] : []),
        ...(input.execute ? ["--execute", input.execute] : []),
        "--no-gate",
      ],
    },
    QC_VALIDATING: { command: COMMANDS.qa, args: ["qa", ...w, ...config] },
    TRAINING: {
      command: COMMANDS.train,
      args: [
        "train",
        ...w,
        "--model",
        input.model,
        "--profile",
        input.profile,
        ...input.trainSettings.flatMap((s) => ["--set", s]),
        ...(resumeTraining ? ["--resume"] : []),
        ...(input.timeBudgetMinutes ? ["--time-budget", String(input.timeBudgetMinutes)] : []),
        ...(input.dryRun ? ["--dry-run"] : []),
      ],
    },
    EXPORTING: { command: COMMANDS.export, args: ["export", ...w, "--quant", input.quant] },
    VALIDATING: {
      command: COMMANDS.validate,
      args: ["validate", ...w, ...graded, ...(input.stub || live.length === 0 ? ["--stub"] : live)],
    },
    BENCHMARKING: {
      command: COMMANDS.benchmark,
      args: [
        "benchmark",
        ...w,
        ...graded,
        ...(validates ? ["--runs-from", join(input.workdir, "reports", "validation.json")] : []),
      ],
    },
    PACKAGING: { command: COMMANDS.pack, args: ["pack", ...w, "--output", input.output] },
  };
}

/** How many prompts validation and the benchmark will grade: the lines of the eval set. */
async function evalPrompts(input: RunPlanInput): Promise<number> {
  const text = await readFile(input.evalSet?.path ?? join(input.workdir, "data", "eval.jsonl"), "utf8").catch(() => "");
  return text.split("\n").filter((line) => line.trim() !== "").length;
}

async function hasCheckpoint(workdir: string): Promise<boolean> {
  const entries = await readdir(join(workdir, "model", "checkpoints")).catch(() => [] as string[]);
  return entries.some((e) => e.startsWith("checkpoint-"));
}

/**
 * A stage is up to date when it finished, its outputs still exist, and it ran with the same
 * arguments on the same upstream outputs (their content hashes, recorded in the state).
 */
export function fingerprint(
  state: PipelineState,
  stage: Stage,
  args: string[],
  configText: string,
  evalSetHash?: string,
): string {
  const stableArgs = args.filter((a) => a !== "--resume");
  const upstream = STAGES.slice(0, STAGES.indexOf(stage)).map((s) => state.stages[s]?.outputs ?? {});
  // An edited eval file keeps its path (the argument): its hash makes the stages that grade on it run again.
  return `sha256:${sha256(canonicalJson({ args: stableArgs, upstream, configText, ...(evalSetHash ? { evalSetHash } : {}) }))}`;
}

/** The exit code the stage had when it last ran with this fingerprint, if its outputs are all still there. */
async function upToDate(
  workdir: string,
  state: PipelineState,
  stage: Stage,
  print: string,
): Promise<number | undefined> {
  const record = state.stages[stage];
  if (!record || record.summary.runFingerprint !== print) return undefined;
  const exitCode = record.status === "done" ? ExitCode.ok : record.summary.runExitCode;
  if (exitCode !== ExitCode.ok && !(exitCode === ExitCode.gateFailed && SOFT_GATES.includes(stage))) return undefined;
  for (const out of Object.keys(record.outputs)) {
    if (!(await exists(resolve(workdir, out)))) return undefined;
  }
  return exitCode;
}

/** Whether the live server still lists exactly the tools in tools.json (inspected into a scratch folder). */
async function toolsetUnchanged(input: RunPlanInput): Promise<boolean> {
  if (!input.target) return true;
  const current = await readToolsFile(join(input.workdir, "tools.json")).catch(() => undefined);
  if (!current) return false;
  const scratch = await mkdtemp(join(tmpdir(), "mcp-forge-probe-"));
  try {
    const probe = await inspectServer(input.target, {
      workdir: scratch,
      out: join(scratch, "tools.json"),
      timeoutMs: input.timeoutMs,
    });
    return probe.file.toolsetHash === current.toolsetHash;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Runs the stages from `from` to `to`, skipping the ones that are up to date, and stops at the first
 * that fails (bad input, a missing environment, the QC gate) with that stage's exit code. A failed
 * validation or benchmark gate does not stop it: the bundle is still packed, recording the failure.
 */
export async function runPipeline(
  input: RunPlanInput,
  runCommand: CommandRunner,
  onStage: (event: {
    stage: Stage;
    index: number;
    total: number;
    phase: "start" | "end";
    outcome?: StageOutcome;
  }) => void,
): Promise<StageOutcome[]> {
  const commands = await stageCommands(input);
  const selected = selectedStages(input);
  const outcomes: StageOutcome[] = [];
  const runStarted = performance.now();
  for (const [index, stage] of selected.entries()) {
    const { args, command: stageCommand } = commands[stage];
    const command = `mcp-forge ${args.join(" ")}`;
    const state = await loadState(input.workdir);
    const print = fingerprint(
      state,
      stage,
      args,
      input.config?.text ?? "",
      GRADING.includes(stage) ? input.evalSet?.hash : undefined,
    );
    onStage({ stage, index, total: selected.length, phase: "start" });
    const started = performance.now();
    // A dry run's TRAINING only estimates: it always runs and is never recorded as done.
    const estimateOnly = Boolean(input.dryRun) && stage === "TRAINING";
    const previous = estimateOnly ? undefined : await upToDate(input.workdir, state, stage, print);
    const fresh = previous !== undefined && (stage !== "INSPECTING" || (await toolsetUnchanged(input)));
    let outcome: StageOutcome;
    if (fresh) {
      outcome = { stage, status: "skipped", seconds: 0, command, exitCode: previous };
    } else {
      const budgeted = stage === "TRAINING" && input.timeBudgetMinutes;
      const minutes = budgeted
        ? trainingMinutes(
            budgeted,
            (performance.now() - runStarted) / 1000,
            afterTrainingSeconds(input.model, await evalPrompts(input)),
          )
        : undefined;
      const ran = minutes !== undefined ? withTrainingBudget(args, minutes) : args;
      const exitCode = await runCommand(stageCommand, ran.slice(1));
      const soft = exitCode === ExitCode.gateFailed && SOFT_GATES.includes(stage);
      const status = exitCode === ExitCode.ok ? "ran" : soft ? "gate-failed" : "failed";
      outcome = {
        stage,
        status,
        seconds: (performance.now() - started) / 1000,
        command: `mcp-forge ${ran.join(" ")}`,
        exitCode,
      };
      if (status !== "failed" && !estimateOnly) await recordFingerprint(input.workdir, stage, print, exitCode);
    }
    outcomes.push(outcome);
    onStage({ stage, index, total: selected.length, phase: "end", outcome });
    if (outcome.status === "failed") break;
  }
  return outcomes;
}

async function recordFingerprint(workdir: string, stage: Stage, print: string, exitCode: number): Promise<void> {
  const state = await loadState(workdir);
  const record = state.stages[stage];
  if (!record) throw new ForgeError(ExitCode.environment, `${stage} finished without recording itself in state.json`);
  record.summary = { ...record.summary, runFingerprint: print, runExitCode: exitCode };
  await saveState(workdir, state);
}
