import { copyFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";

import * as core from "@actions/core";

import { badInput, ExitCode, ForgeError, gateFailed } from "../core/errors.js";
import { code } from "../core/markdown-escape.js";
import { restore, save } from "./cache.js";
import { runCli, serverArgs } from "./cli.js";
import { loadConfig, readState, runContext, writeState } from "./context.js";
import { gateFailures } from "./gate.js";
import type { ActionConfig } from "./inputs.js";
import { baselineKeyPrefix, checkpointKeyPrefix, datasetKey, fileHash } from "./keys.js";
import { type BenchmarkData, isBenchmark } from "./report-data.js";

/** Runs one CLI command of the pipeline; a non-zero exit fails the step with the CLI's own code. */
async function stage(config: ActionConfig, args: string[], allow: number[] = [0]): Promise<number> {
  const { code } = await runCli([...args, "--workdir", config.workdir], {
    cwd: config.workingDirectory,
    env: config.python ? { MCP_FORGE_PYTHON: config.python } : {},
  });
  if (!allow.includes(code))
    throw new ForgeError(code as ForgeError["exitCode"], `mcp-forge ${args[0]} exited with ${code}`);
  return code;
}

const sourceArgs = (config: ActionConfig) => (config.source.kind === "file" ? [] : serverArgs(config.source));
const toolsPath = (config: ActionConfig) => join(config.workdir, "tools.json");

export async function toolsetHashOf(config: ActionConfig): Promise<string> {
  const tools = JSON.parse(await readFile(toolsPath(config), "utf8")) as { toolsetHash?: string };
  if (!tools.toolsetHash)
    throw badInput(`${toolsPath(config)}: /toolsetHash is missing`, "write it with mcp-forge inspect or tools import");
  return tools.toolsetHash;
}

export async function inspect(): Promise<void> {
  const config = await loadConfig();
  if (config.source.kind === "file")
    await stage(config, ["tools", "import", config.source.path, "--out", toolsPath(config)]);
  else await stage(config, ["inspect", ...serverArgs(config.source), "--out", toolsPath(config)]);
  const hash = await toolsetHashOf(config);
  core.setOutput("toolset-hash", hash);
}

const datasetPaths = (config: ActionConfig) => [
  join(config.workdir, "data"),
  join(config.workdir, "reports", "qc.json"),
  join(config.workdir, "reports", "qc.md"),
];

/** Synthesis and QC; skipped when the cache holds this toolset's dataset for this generation config. */
export async function generate(): Promise<void> {
  const config = await loadConfig();
  const key = datasetKey(await toolsetHashOf(config), config);
  core.setOutput("dataset-key", key);
  if ((await restore("dataset", datasetPaths(config), key)).result === "hit") {
    core.notice(`dataset restored from the cache (${key}): generation and QC skipped`, {
      title: "MCP-Forge cache hit",
    });
    return;
  }
  await stage(config, [
    "generate",
    "--tools",
    toolsPath(config),
    "--samples",
    String(config.samples),
    "--seed",
    String(config.seed),
    "--no-gate",
    "--no-progress",
  ]);
  await stage(config, ["qa", "--data", join(config.workdir, "data", "train.jsonl"), "--tools", toolsPath(config)]);
  await save("dataset", datasetPaths(config), key);
}

/** LoRA training; the newest checkpoint of the same data, model and profile is restored first so training resumes. */
export async function train(): Promise<void> {
  const config = await loadConfig();
  const prefix = checkpointKeyPrefix(await fileHash(join(config.workdir, "data", "train.jsonl")), config);
  const key = `${prefix}${process.env.GITHUB_RUN_ID ?? "local"}-${process.env.GITHUB_RUN_ATTEMPT ?? "1"}`;
  core.setOutput("checkpoint-key", key);
  const restored = await restore("LoRA checkpoints", [join(config.workdir, "model")], key, [prefix]);
  const resume = restored.result === "hit" || restored.result === "partial";
  if (resume)
    core.notice(`resuming training from the cached checkpoints (${restored.matchedKey})`, {
      title: "MCP-Forge cache hit",
    });
  await stage(config, [
    "train",
    "--data",
    join(config.workdir, "data", "train.jsonl"),
    "--model",
    config.model,
    "--profile",
    config.profile,
    ...config.trainSettings.flatMap((s) => ["--set", s]),
    ...(config.timeBudget ? ["--time-budget", String(config.timeBudget)] : []),
    ...(resume ? ["--resume"] : []),
  ]);
}

/** Runs after train whatever happened (always()), so a failed or cancelled job leaves its checkpoints for the next. */
export async function saveCheckpoints(): Promise<void> {
  const config = await loadConfig();
  const key = process.env.CHECKPOINT_KEY;
  if (!key) return;
  await save("LoRA checkpoints", [join(config.workdir, "model")], key);
}

export async function exportModel(): Promise<void> {
  const config = await loadConfig();
  await stage(config, [
    "export",
    "--model",
    join(config.workdir, "model"),
    "--quant",
    config.quant,
    "--out",
    join(config.workdir, "model.gguf"),
  ]);
}

/** Looped validation; thresholds it misses are a warning here, since the benchmark step is the gate (with the thresholds input). */
export async function validate(): Promise<void> {
  const config = await loadConfig();
  const code = await stage(
    config,
    ["validate", "--model", join(config.workdir, "model.gguf"), ...evalArgs(config), ...sourceArgs(config)],
    [0, 1],
  );
  if (code === 1)
    core.warning("validation missed the release thresholds (reports/validation.md); the benchmark step gates the run", {
      title: "MCP-Forge validation",
    });
}

/** Picks the benchmark to compare with (input baseline: auto restores it from the cache) for the benchmark line after it. */
export async function baseline(): Promise<void> {
  const config = await loadConfig();
  const choice = await findBaseline(config);
  await writeState("baseline.json", choice);
  core.info(`baseline: ${choice.note}`);
}

/** Measures; the gate (next line of the same step) decides from the report, so exit 1 here is not yet a failure. */
export async function benchmark(): Promise<void> {
  const config = await loadConfig();
  const choice = (await readState<BaselineChoice>("baseline.json")) ?? { note: "none" };
  await stage(
    config,
    [
      "benchmark",
      "--model",
      join(config.workdir, "model.gguf"),
      ...evalArgs(config),
      ...(choice.path ? ["--baseline", choice.path] : []),
      ...sourceArgs(config),
    ],
    [0, 1],
  );
}

const evalArgs = (config: ActionConfig) => (config.evalSet ? ["--eval", config.evalSet] : []);

interface BaselineChoice {
  path?: string;
  note: string;
}

async function findBaseline(config: ActionConfig): Promise<BaselineChoice> {
  if (config.baseline.kind === "none") return { note: "none (input baseline: none)" };
  if (config.baseline.kind === "path") return { path: config.baseline.path, note: code(config.baseline.path) };
  const context = await runContext();
  if (!context.defaultBranch) return { note: "no baseline (the event names no default branch)" };
  const hash = await toolsetHashOf(config);
  const prefix = baselineKeyPrefix(context.defaultBranch, datasetKey(hash, config));
  const dir = join(config.workdir, "baseline");
  const event = await restore("baseline", [dir], `${prefix}${context.sha}`, [prefix]);
  if (event.result === "unavailable") return { note: "none (the Actions cache service is unavailable)" };
  if (event.result !== "hit" && event.result !== "partial")
    return { note: `no baseline yet (no passing run on ${context.defaultBranch} with this toolset and data)` };
  const path = join(dir, "benchmark.json");
  const report = JSON.parse(await readFile(path, "utf8")) as BenchmarkData;
  if (report.toolsetHash && report.toolsetHash !== hash)
    return { note: `no comparable baseline (${context.defaultBranch}'s was measured on another toolset)` };
  return { path, note: `${context.defaultBranch} (last passing run)` };
}

/**
 * The gate: fails the step (exit 1) with an error annotation per failing metric. Reads only
 * reports/benchmark.json. On the default branch a passing report becomes the baseline for PRs.
 */
export async function gate(): Promise<ExitCode> {
  const config = await loadConfig();
  const path = join(config.workdir, "reports", "benchmark.json");
  const report: unknown = JSON.parse(await readFile(path, "utf8").catch(() => "null"));
  if (!isBenchmark(report))
    throw gateFailed(
      `${path}: missing or not a benchmark report (no /metrics)`,
      "the benchmark stage did not write its report; see its log",
    );
  const failures = gateFailures(report, config.thresholds);
  core.setOutput("benchmark-json", path);
  core.setOutput("passed", String(failures.length === 0));
  core.setOutput(
    "regressions",
    failures
      .filter((f) => f.kind === "regression")
      .map((f) => f.metric)
      .join(","),
  );
  for (const f of failures) core.error(f.message, { title: `MCP-Forge gate failed on ${f.metric}` });
  if (failures.length > 0) return ExitCode.gateFailed;
  core.info("gate: passed");
  await saveBaseline(config, path);
  return ExitCode.ok;
}

async function saveBaseline(config: ActionConfig, report: string): Promise<void> {
  const context = await runContext();
  if (!context.defaultBranch || context.ref !== `refs/heads/${context.defaultBranch}` || context.eventName !== "push")
    return;
  const dir = join(config.workdir, "baseline");
  await mkdir(dir, { recursive: true });
  await copyFile(report, join(dir, "benchmark.json"));
  const prefix = baselineKeyPrefix(context.defaultBranch, datasetKey(await toolsetHashOf(config), config));
  await save("baseline", [dir], `${prefix}${context.sha}`);
}

export async function pack(): Promise<void> {
  const config = await loadConfig();
  const output = join(config.workdir, "bundle");
  await stage(config, [
    "pack",
    "--model",
    join(config.workdir, "model.gguf"),
    "--tools",
    toolsPath(config),
    "--output",
    output,
    ...(config.bundleName ? ["--name", config.bundleName] : []),
  ]);
  core.setOutput("bundle-path", output);
}

/** The steps that run the pipeline's stages, in action.yml's order, by the name action.yml passes. */
export const STAGE_STEPS = {
  inspect,
  generate,
  train,
  checkpoints: saveCheckpoints,
  export: exportModel,
  validate,
  baseline,
  benchmark,
  gate,
  pack,
} satisfies Record<string, () => Promise<ExitCode | void>>;
