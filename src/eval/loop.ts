import { canonicalJson } from "../core/canonical.js";
import type { ValidateFunction } from "../core/json-schema.js";
import type { ChatMessage, GenerationTiming, ModelBackend, RawCall, ToolCall } from "../models/types.js";
import type { ToolExecutor, ToolResult } from "./executor.js";
import type { EvalCase } from "./samples.js";

/** A call is a retry storm when the same failing call (name + arguments) is made this many times. */
export const RETRY_STORM_REPEATS = 3;

export type CallCheck = "ok" | "unparseable" | "unknown_tool" | "schema_invalid";

export interface CallRecord {
  name?: string;
  arguments?: unknown;
  text: string;
  check: CallCheck;
  problem?: string;
  result?: ToolResult;
}

export interface TurnRecord {
  raw: string;
  content: string;
  attemptedCall: boolean;
  calls: CallRecord[];
  timing: GenerationTiming;
}

export type RunOutcome = "answered" | "unparseable" | "turn_limit" | "model_error";

export interface RunRecord {
  id: string;
  scenario: string;
  expectedTools: string[];
  turns: TurnRecord[];
  outcome: RunOutcome;
  finalAnswer?: string;
  retryStorm: boolean;
  /** An error result came back and the final answer neither recovered from it nor mentioned it. */
  ignoredError: boolean;
  loopMs: number;
  /** Time spent outside the model: rendering, parsing, validation, the tool calls. */
  harnessMs: number;
  /** Of that, time waiting for tool results. */
  toolMs: number;
  error?: string;
}

export interface LoopContext {
  backend: ModelBackend;
  executor: ToolExecutor;
  validators: ReadonlyMap<string, ValidateFunction>;
  maxTurns: number;
}

/** One held-out prompt, looped: model → call → result → model, until an answer or the turn limit. */
export async function runCase(evalCase: EvalCase, ctx: LoopContext): Promise<RunRecord> {
  const started = performance.now();
  let engineMs = 0;
  let toolMs = 0;
  const messages: ChatMessage[] = [...evalCase.prompt];
  const turns: TurnRecord[] = [];
  let outcome: RunOutcome = "turn_limit";
  let finalAnswer: string | undefined;
  let error: string | undefined;
  for (let turn = 0; turn < ctx.maxTurns; turn++) {
    let generation;
    const early: Array<{ key: string; result: Promise<ToolResult> }> = [];
    const onCall = (raw: RawCall, index: number) => {
      const call = checkCall(raw, ctx.validators);
      if (call.check !== "ok" || !ctx.executor.prefetchable?.(call.name!)) return;
      const result = ctx.executor.call(call.name!, call.arguments as Record<string, unknown>);
      // A prefetch the final reply does not confirm is dropped unread: its failure must not go unhandled.
      result.catch(() => undefined);
      early[index] = { key: callKey(call), result };
    };
    try {
      generation = await ctx.backend.generate({ messages, tools: evalCase.tools, ...(ctx.executor.prefetchable ? { onCall } : {}) });
    } catch (e) {
      outcome = "model_error";
      error = (e as Error).message;
      break;
    }
    engineMs += generation.timing.engineMs;
    const calls: CallRecord[] = generation.calls.map((c) => checkCall(c, ctx.validators));
    turns.push({ raw: generation.raw, content: generation.content, attemptedCall: generation.attemptedCall, calls, timing: generation.timing });
    if (!generation.attemptedCall) {
      outcome = "answered";
      finalAnswer = generation.content;
      break;
    }
    if (calls.length === 0 || calls.some((c) => c.check === "unparseable")) {
      outcome = "unparseable";
      break;
    }
    const toolCalls: ToolCall[] = calls.map((c, i) => ({
      id: `call_${turn}_${i}`,
      type: "function",
      function: { name: c.name!, arguments: c.arguments as Record<string, unknown> },
    }));
    messages.push({ role: "assistant", content: generation.content, tool_calls: toolCalls });
    for (const [i, call] of calls.entries()) {
      const callStarted = performance.now();
      const prefetched = early[i]?.key === callKey(call) ? early[i]!.result : undefined;
      call.result =
        call.check === "ok"
          ? await (prefetched ?? ctx.executor.call(call.name!, call.arguments as Record<string, unknown>))
          : { content: `Error: ${call.problem}`, isError: true, source: "rejected" };
      toolMs += performance.now() - callStarted;
      messages.push({ role: "tool", tool_call_id: toolCalls[i]!.id, name: call.name!, content: call.result.content });
    }
  }
  const loopMs = performance.now() - started;
  const retryStorm = hasRetryStorm(turns);
  return {
    id: evalCase.id,
    scenario: evalCase.scenario,
    expectedTools: evalCase.expectedCalls.map((c) => c.function.name),
    turns,
    outcome,
    ...(finalAnswer !== undefined ? { finalAnswer } : {}),
    retryStorm,
    ignoredError: outcome === "answered" && receivedError(turns) && !recoveredOrAcknowledged(turns, finalAnswer ?? ""),
    loopMs,
    harnessMs: Math.max(0, loopMs - engineMs),
    toolMs,
    ...(error ? { error } : {}),
  };
}

const callKey = (call: CallRecord) => `${call.name}\u0000${canonicalJson(call.arguments)}`;

function checkCall(
  call: { name?: string; arguments?: unknown; text: string; error?: string },
  validators: ReadonlyMap<string, ValidateFunction>,
): CallRecord {
  const base = { text: call.text, ...(call.name !== undefined ? { name: call.name } : {}), ...(call.arguments !== undefined ? { arguments: call.arguments } : {}) };
  if (call.error || call.name === undefined) return { ...base, check: "unparseable", problem: call.error ?? "no tool name" };
  const validate = validators.get(call.name);
  if (!validate) return { ...base, check: "unknown_tool", problem: `unknown tool "${call.name}"` };
  if (!validate(call.arguments)) {
    const first = validate.errors?.[0];
    return { ...base, check: "schema_invalid", problem: `arguments${first?.instancePath ?? ""} ${first?.message ?? "do not match the schema"}` };
  }
  return { ...base, check: "ok" };
}

/** Tool results that are errors from the tool itself (not calls MCP-Forge refused). */
export function toolErrors(turns: readonly TurnRecord[]): CallRecord[] {
  return turns.flatMap((t) => t.calls).filter((c) => c.check === "ok" && c.result?.isError);
}

export function receivedError(turns: readonly TurnRecord[]): boolean {
  return toolErrors(turns).length > 0;
}

export function hasRetryStorm(turns: readonly TurnRecord[]): boolean {
  const failing = new Set(toolErrors(turns).map(callKey));
  const counts = new Map<string, number>();
  for (const call of turns.flatMap((t) => t.calls)) {
    const key = callKey(call);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...failing].some((k) => (counts.get(k) ?? 0) >= RETRY_STORM_REPEATS);
}

const ACKNOWLEDGES = /\b(error|errors|fail|failed|fails|failure|unable|could ?n[o']t|can ?n[o']t|cannot|not found|does ?n[o']t exist|does not exist|sorry|unfortunately|problem|issue|invalid|denied|unavailable|not available|try again|was ?n[o']t able|was not able|went wrong)\b/i;

/** After the last error result, a call succeeded, or the answer says something went wrong. */
function recoveredOrAcknowledged(turns: readonly TurnRecord[], answer: string): boolean {
  const calls = turns.flatMap((t) => t.calls);
  const lastError = calls.map((c) => c.check === "ok" && c.result?.isError === true).lastIndexOf(true);
  if (calls.slice(lastError + 1).some((c) => c.check === "ok" && c.result && !c.result.isError)) return true;
  return ACKNOWLEDGES.test(answer);
}
