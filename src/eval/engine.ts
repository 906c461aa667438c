import { access } from "node:fs/promises";
import { join } from "node:path";

import { cliEntry } from "../cli/entry.js";
import { compileToolSchema, type ValidateFunction } from "../core/json-schema.js";
import { readToolsFile, type ToolsFile } from "../core/toolset.js";
import { connectToServer, describeTarget, type ServerTarget } from "../mcp/connect.js";
import { type Recording, StubResponder } from "../mcp/stub-server.js";
import type { ModelBackend } from "../models/types.js";
import { runCase, type RunRecord } from "./loop.js";
import { type ExecutePolicy, McpExecutor, type ToolExecutor } from "./mcp-executor.js";
import { type Contributions, contributions } from "./metrics.js";
import { type EvalCase, type EvalSet, readEvalSet } from "./samples.js";

/** Where the model's calls run: a stub server built from tools.json and recorded results, or a real server. */
export type CallTarget =
  | { kind: "stub"; data?: string[]; errorRate?: number; errorTools?: string[] }
  | { kind: "server"; target: ServerTarget; execute: ExecutePolicy };

export interface EvalInputs {
  toolsPath: string;
  evalPath: string;
  workdir: string;
  calls: CallTarget;
  maxTurns: number;
  timeoutMs: number;
  /** Evaluate only the first N prompts. */
  limit?: number;
  seed?: number;
}

export interface ScoredRun extends RunRecord {
  contributions: Contributions;
}

export interface Prepared {
  toolsFile: ToolsFile;
  evalSet: EvalSet;
  cases: EvalCase[];
  validators: Map<string, ValidateFunction>;
  schemas: Map<string, Record<string, unknown>>;
  stubData: string[];
}

export async function prepare(inputs: EvalInputs): Promise<Prepared> {
  const toolsFile = await readToolsFile(inputs.toolsPath);
  const evalSet = await readEvalSet(inputs.evalPath, toolsFile.tools);
  const validators = new Map<string, ValidateFunction>();
  const schemas = new Map<string, Record<string, unknown>>();
  toolsFile.tools.forEach((tool, i) => {
    validators.set(tool.name, compileToolSchema(tool.inputSchema, `${inputs.toolsPath} /tools/${i}/inputSchema`));
    schemas.set(tool.name, tool.inputSchema);
  });
  const cases = inputs.limit ? evalSet.cases.slice(0, inputs.limit) : evalSet.cases;
  const stubData =
    inputs.calls.kind === "stub" && inputs.calls.data?.length
      ? inputs.calls.data
      : await existing([join(inputs.workdir, "data", "train.jsonl"), inputs.evalPath]);
  return { toolsFile, evalSet, cases, validators, schemas, stubData };
}

export interface OpenExecutor {
  executor: ToolExecutor;
  description: string;
  close(): Promise<void>;
}

/** Connects to where calls run; the stub is started as its own process (`mcp-forge stub`), a real MCP server. */
export async function openExecutor(inputs: EvalInputs, prepared: Prepared): Promise<OpenExecutor> {
  const recordings: Recording[] = [];
  for (const path of prepared.stubData) {
    const set = path === prepared.evalSet.path ? prepared.evalSet : await readEvalSet(path, prepared.toolsFile.tools);
    for (const c of set.cases) recordings.push(...c.recorded);
  }
  const fallback = new StubResponder(prepared.toolsFile.tools, recordings, { seed: inputs.seed ?? 0 });
  const logDir = join(inputs.workdir, "logs");
  if (inputs.calls.kind === "server") {
    const connection = await connectToServer(inputs.calls.target, { timeoutMs: inputs.timeoutMs, logDir });
    const executor = new McpExecutor(connection, prepared.toolsFile.tools, {
      policy: inputs.calls.execute,
      timeoutMs: inputs.timeoutMs,
      source: "server",
      fallback,
    });
    return { executor, description: describeTarget(inputs.calls.target), close: () => connection.close() };
  }
  const command = stubCommand(inputs.toolsPath, prepared.stubData, inputs.calls, inputs.seed ?? 0);
  const connection = await connectToServer({ kind: "stdio", command }, { timeoutMs: inputs.timeoutMs, logDir });
  const executor = new McpExecutor(connection, prepared.toolsFile.tools, {
    policy: "all",
    timeoutMs: inputs.timeoutMs,
    source: "stub",
    fallback,
    stateless: !inputs.calls.errorRate,
  });
  return { executor, description: `stub (${prepared.stubData.length} data file(s))`, close: () => connection.close() };
}

/** The shell command that starts the stub server for these tools and recordings, through the CLI that is running. */
export function stubCommand(
  toolsPath: string,
  data: readonly string[],
  stub: Extract<CallTarget, { kind: "stub" }>,
  seed: number,
): string {
  const args = [process.execPath, cliEntry(), "stub", "--tools", toolsPath, "--seed", String(seed)];
  for (const d of data) args.push("--data", d);
  if (stub.errorRate) args.push("--error-rate", String(stub.errorRate));
  for (const t of stub.errorTools ?? []) args.push("--error-tool", t);
  return args.map(shellQuote).join(" ");
}

const shellQuote = (s: string) => (/^[\w./:=@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * Every prompt looped through the model, scored; the runs come back in the eval set's order. The
 * prompts run grouped by system prompt: the model keeps evaluated the prefix a prompt shares with
 * the one before, and a change of system prompt comes before the tool schemas, so ungrouped
 * prompts re-evaluated the whole schema block (3.8 s a prompt for SmolLM2 on the main command's
 * generated eval split, whose samples rotate four system prompts).
 */
export async function evaluate(
  backend: ModelBackend,
  prepared: Prepared,
  executor: ToolExecutor,
  options: { maxTurns: number; onProgress?: (done: number, total: number) => void },
): Promise<ScoredRun[]> {
  const runs: ScoredRun[] = new Array<ScoredRun>(prepared.cases.length);
  const order = groupedBySystemPrompt(prepared.cases);
  for (const [k, i] of order.entries()) {
    const evalCase = prepared.cases[i]!;
    const next = k + 1 < order.length ? prepared.cases[order[k + 1]!] : undefined;
    const run = await runCase(evalCase, {
      backend,
      executor,
      validators: prepared.validators,
      maxTurns: options.maxTurns,
      ...(next ? { upcoming: { messages: next.prompt, tools: next.tools } } : {}),
    });
    runs[i] = { ...run, contributions: contributions(run, evalCase, prepared.schemas) };
    options.onProgress?.(k + 1, prepared.cases.length);
  }
  return runs;
}

/** The cases' indices, those with the same system prompt and tools together, groups in order of first appearance. */
function groupedBySystemPrompt(cases: readonly EvalCase[]): number[] {
  const groups = new Map<string, number[]>();
  cases.forEach((c, i) => {
    const system = c.prompt.filter((m) => m.role === "system").map((m) => m.content);
    const key = JSON.stringify([system, c.tools.map((t) => t.function.name)]);
    const group = groups.get(key);
    if (group) group.push(i);
    else groups.set(key, [i]);
  });
  return [...groups.values()].flat();
}

/** The tools a run counts under in per-tool tables: the ones its prompt expects. */
export const toolsOf = (run: RunRecord) => [...new Set(run.expectedTools)];

async function existing(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    try {
      await access(p);
      if (!out.includes(p)) out.push(p);
    } catch {
      /* absent: nothing recorded there */
    }
  }
  return out;
}
