import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";

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

export interface TrainerRun {
  events: TrainerEvent[];
  done?: TrainerEvent;
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
 * Runs `python -m mcp_forge_trainer <args>`, parsing the progress protocol from stdout and writing
 * the trainer's own log (stderr) to `logFile`. Ctrl-C / SIGTERM are passed on to the trainer, which
 * checkpoints and exits; this waits for it. `module` runs another module on the protocol instead (a
 * benchmark in python/bench, which PYTHONPATH makes importable).
 */
export async function runTrainer(
  args: string[],
  options: {
    logFile: string;
    onEvent?: (event: TrainerEvent) => void;
    gpus?: number;
    env?: NodeJS.ProcessEnv;
    module?: string;
  },
): Promise<TrainerRun> {
  const python = await requireTrainerPython(options.env);
  const gpus = options.gpus ?? 0;
  const entry = options.module ?? "mcp_forge_trainer";
  const command =
    gpus > 1
      ? ["-m", "accelerate.commands.launch", "--num_processes", String(gpus), "-m", entry, ...args]
      : ["-m", entry, ...args];
  await mkdir(dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: "a" });
  const pythonPath = join(PACKAGE_ROOT, "python");
  const child = execa(python.path, command, {
    reject: false,
    stdin: "ignore",
    // The trainer finishes its step and writes a checkpoint after SIGTERM; that can take a while.
    forceKillAfterDelay: false,
    env: {
      ...(options.env ?? process.env),
      PYTHONPATH: [pythonPath, process.env.PYTHONPATH].filter(Boolean).join(":"),
      PYTHONUNBUFFERED: "1",
      TOKENIZERS_PARALLELISM: "false",
    },
  });
  child.stderr?.pipe(log);
  let interrupted = false;
  const stopOnSignal = onShutdown(async () => {
    interrupted = true;
    child.kill("SIGTERM");
    await child;
  });
  const run: TrainerRun = { events: [], exitCode: 0, interrupted: false };
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    if (!line.trim().startsWith("{")) continue;
    let event: TrainerEvent;
    try {
      event = JSON.parse(line) as TrainerEvent;
    } catch {
      continue;
    }
    run.events.push(event);
    if (event.event === "done") run.done = event;
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
