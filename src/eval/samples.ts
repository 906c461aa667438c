import { canonicalJson, sha256 } from "../core/canonical.js";
import { badInput } from "../core/errors.js";
import { readTextFile } from "../core/files.js";
import type { McpTool } from "../core/toolset.js";
import type { ChatMessage, FunctionTool, ToolCall } from "../models/types.js";

/** One held-out prompt: what the model sees, and what it should do. */
export interface EvalCase {
  id: string;
  scenario: string;
  tools: FunctionTool[];
  /** The messages before the first assistant turn (system, user). */
  prompt: ChatMessage[];
  /** The calls of the first assistant turn; empty when the prompt needs no tool. */
  expectedCalls: ToolCall[];
  /**
   * Acceptable values per argument, aligned with `expectedCalls` (BFCL's possible answers):
   * `acceptable[i][param]` lists values any of which is right for call i.
   */
  acceptable?: Array<Record<string, unknown[]>>;
  /** Recorded tool results of the sample, for replay: tool name + canonical arguments → result. */
  recorded: RecordedResult[];
}

export interface RecordedResult {
  name: string;
  arguments: Record<string, unknown>;
  content: string;
  isError: boolean;
}

export interface EvalSet {
  path: string;
  cases: EvalCase[];
  /** sha256 over the canonical JSON of the samples, so a reformatted file keeps its hash. */
  hash: string;
}

/** Reads a samples JSONL file (the contract's format) into evaluation cases. */
export async function readEvalSet(path: string, toolset: readonly McpTool[]): Promise<EvalSet> {
  const text = await readTextFile(path, "eval set").catch((error: Error) => {
    throw badInput(error.message, "run `mcp-forge generate` first; it writes data/eval.jsonl");
  });
  const fallbackTools = toolset.map(toFunctionTool);
  // Samples usually carry the same tools: one shared array lets the chat template convert them once.
  const interned = new Map<string, FunctionTool[]>();
  const cases: EvalCase[] = [];
  const canon: string[] = [];
  text.split("\n").forEach((line, index) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw badInput(`${path}:${index + 1}: not valid JSON (${(error as Error).message})`);
    }
    canon.push(canonicalJson(value));
    const evalCase = toCase(value, `${path}:${index + 1}`, fallbackTools);
    const key = JSON.stringify(evalCase.tools);
    evalCase.tools = interned.get(key) ?? evalCase.tools;
    interned.set(key, evalCase.tools);
    cases.push(evalCase);
  });
  if (cases.length === 0) throw badInput(`${path}: no samples`, "the eval set needs at least one sample");
  return { path, cases, hash: `sha256:${sha256(canon.join("\n"))}` };
}

export function toFunctionTool(tool: McpTool): FunctionTool {
  return {
    type: "function",
    function: { name: tool.name, description: tool.description ?? tool.title ?? "", parameters: tool.inputSchema },
  };
}

function toCase(value: unknown, where: string, fallbackTools: FunctionTool[]): EvalCase {
  const sample = value as Record<string, unknown>;
  if (!sample || typeof sample !== "object" || !Array.isArray(sample.messages)) {
    throw badInput(`${where}: /messages is missing; expected a sample in the contract's chat format`);
  }
  const messages = sample.messages.map((m, i) => toMessage(m, `${where} /messages/${i}`));
  const firstAssistant = messages.findIndex((m) => m.role === "assistant");
  if (firstAssistant < 0) throw badInput(`${where}: /messages has no assistant turn to compare with`);
  const prompt = messages.slice(0, firstAssistant);
  if (!prompt.some((m) => m.role === "user"))
    throw badInput(`${where}: /messages has no user turn before the first assistant turn`);
  const scenario = typeof sample.scenario === "string" ? sample.scenario : "standard";
  const isError = sample.resultIsError === true || scenario === "error";
  const tools =
    Array.isArray(sample.tools) && sample.tools.length > 0 ? (sample.tools as FunctionTool[]) : fallbackTools;
  return {
    id: typeof sample.id === "string" ? sample.id : where,
    scenario,
    tools,
    prompt,
    expectedCalls: messages[firstAssistant]?.tool_calls ?? [],
    ...(Array.isArray(sample.acceptable) ? { acceptable: sample.acceptable as Array<Record<string, unknown[]>> } : {}),
    recorded: recordedResults(messages, isError),
  };
}

function recordedResults(messages: ChatMessage[], isError: boolean): RecordedResult[] {
  const calls = new Map<string, ToolCall>();
  for (const m of messages) for (const c of m.tool_calls ?? []) calls.set(c.id, c);
  const out: RecordedResult[] = [];
  for (const m of messages) {
    if (m.role !== "tool") continue;
    const call = m.tool_call_id ? calls.get(m.tool_call_id) : undefined;
    if (!call) continue;
    out.push({ name: call.function.name, arguments: call.function.arguments, content: m.content, isError });
  }
  return out;
}

function toMessage(value: unknown, where: string): ChatMessage {
  const m = value as Record<string, unknown>;
  if (!m || typeof m !== "object" || !["system", "user", "assistant", "tool"].includes(m.role as string)) {
    throw badInput(`${where}/role: expected system, user, assistant or tool`);
  }
  const content = typeof m.content === "string" ? m.content : m.content == null ? "" : JSON.stringify(m.content);
  const out: ChatMessage = { role: m.role as ChatMessage["role"], content };
  if (Array.isArray(m.tool_calls) && m.tool_calls.length > 0) {
    out.tool_calls = m.tool_calls.map((c, i) => toToolCall(c, `${where}/tool_calls/${i}`));
  }
  if (typeof m.tool_call_id === "string") out.tool_call_id = m.tool_call_id;
  if (typeof m.name === "string") out.name = m.name;
  return out;
}

function toToolCall(value: unknown, where: string): ToolCall {
  const c = value as { id?: unknown; function?: { name?: unknown; arguments?: unknown } };
  if (!c?.function || typeof c.function.name !== "string") throw badInput(`${where}/function/name: expected a string`);
  let args = c.function.arguments ?? {};
  if (typeof args === "string") {
    try {
      args = JSON.parse(args);
    } catch {
      throw badInput(
        `${where}/function/arguments: a string that is not JSON`,
        "run `mcp-forge qa --fix` to normalise it",
      );
    }
  }
  if (!args || typeof args !== "object" || Array.isArray(args))
    throw badInput(`${where}/function/arguments: expected a JSON object`);
  return {
    id: typeof c.id === "string" ? c.id : `call_${where}`,
    type: "function",
    function: { name: c.function.name, arguments: args as Record<string, unknown> },
  };
}
