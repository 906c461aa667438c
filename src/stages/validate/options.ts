import { statSync } from "node:fs";
import { join, resolve } from "node:path";

import { Command, Option } from "commander";

import { parseSeed } from "../../cli/bounds.js";
import { collect } from "../../cli/options.js";
import { badInput } from "../../core/errors.js";
import type { CallTarget, EvalInputs } from "../../eval/engine.js";
import type { ExecutePolicy } from "../../eval/mcp-executor.js";
import { readEvalSet } from "../../eval/samples.js";
import { addServerOptions, serverTargetFromOptions, timeoutMsFromOptions } from "../../mcp/server-options.js";
import type { LoadBackendOptions } from "../../models/load.js";

/** Options validate and benchmark share: the model, the eval set, where calls run, decoding. */
export function addEvalOptions(command: Command): Command {
  command
    .option(
      "--model <gguf|openai:name>",
      "the model: a GGUF file (default <workdir>/model.gguf) or openai:<model> for an OpenAI-compatible endpoint",
    )
    .option("--base-url <url>", "OpenAI-compatible endpoint for openai: models (key from $OPENAI_API_KEY)")
    .option("--api-key-env <name>", "environment variable holding the endpoint's key", "OPENAI_API_KEY")
    .option("--tools <file>", "tools.json (default <workdir>/tools.json)")
    .option(
      "--eval <file>",
      "the eval set: held-out samples (default <workdir>/data/eval.jsonl) or a hand-written set in the same JSONL chat format; the reports record its name and hash",
    )
    .option(
      "--stub",
      "run calls against a stub MCP server built from tools.json and recorded results (the default without --server/--url)",
    )
    .option(
      "--data <file>",
      "samples whose recorded results the stub replays (repeatable; default data/train.jsonl and the eval set)",
      collect,
    )
    .option("--error-rate <p>", "stub: probability of an injected error per call", "0")
    .option("--error-tool <name>", "stub: a tool whose every call fails (repeatable)", collect)
    .addOption(
      new Option("--execute <which>", "real server: which tools really run; others get a recorded/stub result")
        .choices(["read-only", "all"])
        .default("read-only"),
    )
    .option("--max-turns <n>", "model turns per prompt", "4")
    .option("--limit <n>", "only the first N prompts")
    .option("--seed <n>", "seed for decoding, the stub and the bootstrap", "0")
    .option("--threads <n>", "llama.cpp threads (default: 1 for a model under 192 MiB, else every core)")
    .option("--context-size <n>", "context size in tokens (default: the model's, at most 8192)");
  return addServerOptions(command);
}

export interface EvalCliOptions {
  workdir: string;
  model?: string;
  baseUrl?: string;
  apiKeyEnv: string;
  tools?: string;
  eval?: string;
  stub?: boolean;
  data?: string[];
  errorRate: string;
  errorTool?: string[];
  execute: ExecutePolicy;
  maxTurns: string;
  limit?: string;
  seed: string;
  threads?: string;
  contextSize?: string;
  [key: string]: unknown;
}

export function evalInputsFromOptions(
  opts: EvalCliOptions,
  workdir: string,
): EvalInputs & { model: string; backendOptions: LoadBackendOptions } {
  const server = serverTargetFromOptions(opts);
  if (server && opts.stub)
    throw badInput(
      "pass --stub or --server/--url, not both",
      "--stub replays recorded results; --server runs the real tools",
    );
  const errorRate = Number(opts.errorRate);
  if (!(errorRate >= 0 && errorRate <= 1))
    throw badInput(`--error-rate ${opts.errorRate}: expected a probability from 0 to 1`);
  const calls: CallTarget = server
    ? { kind: "server", target: server, execute: opts.execute }
    : {
        kind: "stub",
        ...(opts.data ? { data: opts.data.map((d) => resolve(d)) } : {}),
        errorRate,
        ...(opts.errorTool ? { errorTools: opts.errorTool } : {}),
      };
  const threads = optionalInt(opts.threads, "--threads", 1);
  const contextSize = optionalInt(opts.contextSize, "--context-size", 256);
  const limit = optionalInt(opts.limit, "--limit", 1);
  const seed = opts.seed !== undefined ? parseSeed(opts.seed) : 0;
  return {
    model: opts.model ?? join(workdir, "model.gguf"),
    backendOptions: {
      seed,
      ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}),
      apiKeyEnv: opts.apiKeyEnv,
      ...(threads ? { threads } : {}),
      ...(contextSize ? { contextSize } : {}),
    },
    toolsPath: resolve(opts.tools ?? join(workdir, "tools.json")),
    evalPath: opts.eval !== undefined ? namedEvalFile(opts.eval) : join(workdir, "data", "eval.jsonl"),
    workdir,
    calls,
    maxTurns: optionalInt(opts.maxTurns, "--max-turns", 1) ?? 4,
    timeoutMs: timeoutMsFromOptions(opts),
    ...(limit ? { limit } : {}),
    seed,
  };
}

const EVAL_FILE_HINT =
  'one sample a line in the chat format of data/eval.jsonl: {"messages": [{"role": "user", "content": "…"}, {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "…", "arguments": {…}}}]}]}';

/** The absolute path of an eval set named by `--eval`, which must be a file. */
function namedEvalFile(value: string): string {
  const path = resolve(value);
  if (!statSync(path, { throwIfNoEntry: false })?.isFile())
    throw badInput(`--eval ${value}: no such file`, EVAL_FILE_HINT);
  return path;
}

/**
 * An eval set named by `--eval`, read in full before any stage runs, so that a missing file or a
 * malformed line (named by file and line) stops `run` at once rather than after training.
 */
export async function checkEvalFile(value: string): Promise<{ path: string; hash: string; prompts: number }> {
  const path = namedEvalFile(value);
  const set = await readEvalSet(path, []);
  return { path, hash: set.hash, prompts: set.cases.length };
}

function optionalInt(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw badInput(`${name} ${value}: expected an integer ≥ ${min}`);
  return n;
}

/** Progress on stderr, about ten lines per run. */
export function progressPrinter(info: (text: string) => void): (label: string, done: number, total: number) => void {
  return (label, done, total) => {
    if (done === total || done % Math.max(1, Math.ceil(total / 10)) === 0) info(`${label}: ${done}/${total} prompts`);
  };
}
