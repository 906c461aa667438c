import { readFile, rename } from "node:fs/promises";
import { join, relative } from "node:path";

import { writeJsonAtomic } from "./atomic.js";
import { fileHash } from "./canonical.js";
import { type Stage, STAGE_COMMANDS, STAGES } from "./contract.js";
import { badInput } from "./errors.js";
import { redactSecrets, redactValue } from "./redact.js";
import { onShutdown } from "./shutdown.js";

export { type Stage, STAGES };
export type PipelineStage = Stage | "COMPLETE";

export interface StageRecord {
  status: "running" | "done" | "failed" | "interrupted";
  startedAt: string;
  finishedAt?: string;
  /** Input name → content hash, to tell when a stage is stale. */
  inputs: Record<string, string>;
  /** Output path (relative to the work directory) → content hash. */
  outputs: Record<string, string>;
  summary: Record<string, unknown>;
  error?: string;
  /** The command line that ran the stage (secrets redacted): what `status` suggests to resume it. */
  command?: string;
}

export interface PipelineState {
  version: 1;
  stage: PipelineStage;
  createdAt: string;
  updatedAt: string;
  stages: Partial<Record<Stage, StageRecord>>;
}

export const statePath = (workdir: string) => join(workdir, "state.json");

export function emptyState(now = new Date()): PipelineState {
  const t = now.toISOString();
  return { version: 1, stage: "INSPECTING", createdAt: t, updatedAt: t, stages: {} };
}

/**
 * Reads the work directory's state. A missing file is a fresh pipeline; a corrupt one is an
 * error unless `force`, which moves it aside (never deletes it) and starts over.
 */
export async function loadState(workdir: string, options: { force?: boolean } = {}): Promise<PipelineState> {
  const path = statePath(workdir);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return emptyState();
    if (code === "ENOTDIR")
      throw badInput(
        `--workdir ${workdir}: a file, not a folder`,
        "pass a folder for the pipeline's files (it is created if missing)",
      );
    throw error;
  }
  const problem = validateState(text);
  if (problem === undefined) return JSON.parse(text) as PipelineState;
  if (options.force) {
    await rename(path, `${path}.corrupt-${Date.now()}`);
    return emptyState();
  }
  throw badInput(
    `${path} is corrupt: ${problem}`,
    "fix or remove the file, or pass --force to move it aside and start over",
  );
}

function validateState(text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `not valid JSON (${(error as Error).message})`;
  }
  const state = value as Partial<PipelineState>;
  if (!state || typeof state !== "object" || Array.isArray(state)) return "expected a JSON object";
  if (state.version !== 1) return `/version is ${JSON.stringify(state.version)}, expected 1`;
  if (state.stage !== "COMPLETE" && !STAGES.includes(state.stage as Stage)) {
    return `/stage is ${JSON.stringify(state.stage)}, expected one of ${[...STAGES, "COMPLETE"].join(", ")}`;
  }
  if (!state.stages || typeof state.stages !== "object") return "/stages is missing";
  return undefined;
}

export async function saveState(workdir: string, state: PipelineState): Promise<void> {
  await writeJsonAtomic(statePath(workdir), redactValue({ ...state, updatedAt: new Date().toISOString() }));
}

/** The first stage not yet done, in pipeline order. */
export function currentStage(state: PipelineState): PipelineStage {
  return STAGES.find((s) => state.stages[s]?.status !== "done") ?? "COMPLETE";
}

/** The next step: the command that was running when a stage stopped short, else the stage's usual one. */
export function nextCommand(state: PipelineState): string | undefined {
  const stage = currentStage(state);
  if (stage === "COMPLETE") return undefined;
  const record = state.stages[stage];
  return record && record.status !== "done" && record.command ? record.command : STAGE_COMMANDS[stage];
}

let invocation: string | undefined;

/** A path as state.json records it: relative to the work directory when inside it, else absolute. */
export function recordedPath(workdir: string, path: string): string {
  const inside = relative(workdir, path);
  return inside === "" || inside.startsWith("..") ? path : inside;
}

/** A stage's `outputs`: each file's recorded path → the `sha256:<hex>` of its content. */
export async function outputHashes(workdir: string, paths: readonly string[]): Promise<Record<string, string>> {
  return Object.fromEntries(await Promise.all(paths.map(async (p) => [recordedPath(workdir, p), await fileHash(p)])));
}

/** Records the CLI's arguments (main does), so each stage stores the command line that ran it, secrets redacted. */
export function recordInvocation(args: readonly string[]): void {
  const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`);
  invocation = ["mcp-forge", ...args.map(quote)].join(" ");
}

/** Records that a stage started; later stages' records are dropped, since their inputs change. */
async function startStage(
  workdir: string,
  stage: Stage,
  inputs: Record<string, string>,
  options: { force?: boolean } = {},
): Promise<PipelineState> {
  const state = await loadState(workdir, options);
  const index = STAGES.indexOf(stage);
  for (const later of STAGES.slice(index + 1)) delete state.stages[later];
  state.stages[stage] = {
    status: "running",
    startedAt: new Date().toISOString(),
    inputs,
    outputs: {},
    summary: {},
    ...(invocation ? { command: redactSecrets(invocation) } : {}),
  };
  state.stage = stage;
  await saveState(workdir, state);
  return state;
}

/** Records how a stage ended, with what it produced. */
async function finishStage(
  workdir: string,
  stage: Stage,
  result: Pick<StageRecord, "outputs" | "summary"> & { status?: StageRecord["status"]; error?: string },
): Promise<PipelineState> {
  const state = await loadState(workdir);
  const record = state.stages[stage] ?? {
    status: "running",
    startedAt: new Date().toISOString(),
    inputs: {},
    outputs: {},
    summary: {},
  };
  state.stages[stage] = {
    ...record,
    status: result.status ?? "done",
    finishedAt: new Date().toISOString(),
    outputs: result.outputs,
    summary: result.summary,
    ...(result.error ? { error: result.error } : {}),
  };
  state.stage = currentStage(state);
  await saveState(workdir, state);
  return state;
}

/** How a stage ended, as its work tells `withStage`: `finishStage`'s record (status `done` unless given). */
export type StageFinish = Pick<StageRecord, "outputs" | "summary"> & { status?: StageRecord["status"]; error?: string };

/** What `withStage` records for a stage: its inputs, and how it ended in each of the three ways. */
export interface StageBook<T> {
  inputs: Record<string, string>;
  /** The record when the work returns (a failed gate sets `status: "failed"` here). */
  finish: (value: T) => StageFinish | Promise<StageFinish>;
  /** The record when the work throws (undefined: the default, `failed` with the error's message). */
  failed?: (error: unknown) => StageFinish | undefined;
  /** The record after Ctrl-C or SIGTERM; by default `interrupted` with empty outputs. */
  interrupted?: () => StageFinish | Promise<StageFinish>;
  /** Start over from a corrupt state.json (moved aside), as `loadState` does. */
  force?: boolean;
}

const failedRecord = (error: unknown): StageFinish => ({
  status: "failed",
  outputs: {},
  summary: {},
  error: error instanceof Error ? error.message : String(error),
});

/**
 * The state.json bookkeeping around a stage's work, for every stage: records that it started with
 * its inputs, runs `work`, and records how it ended: `book.finish` of work's value; `book.failed`
 * when work throws (the error goes on; a record that cannot be written does not hide it); or
 * `book.interrupted` as soon as a signal arrives (the shutdown handler exits once it is written, and
 * an error the interruption causes is not recorded over it). Returns work's value, its record and
 * the state after it.
 */
export async function withStage<T>(
  workdir: string,
  stage: Stage,
  book: StageBook<T>,
  work: () => Promise<T>,
): Promise<{ value: T; finish: StageFinish; state: PipelineState }> {
  await startStage(workdir, stage, book.inputs, { force: book.force });
  let interrupted = false;
  const stopOnSignal = onShutdown(async () => {
    interrupted = true;
    const record = book.interrupted
      ? await book.interrupted()
      : { status: "interrupted" as const, outputs: {}, summary: {} };
    await finishStage(workdir, stage, record);
  });
  let value: T;
  try {
    value = await work();
  } catch (error) {
    if (!interrupted)
      await finishStage(workdir, stage, book.failed?.(error) ?? failedRecord(error)).catch(() => undefined);
    throw error;
  } finally {
    stopOnSignal();
  }
  const record = await book.finish(value);
  const state = await finishStage(workdir, stage, record);
  return { value, finish: record, state };
}
