import { canonicalJson } from "../core/canonical.js";
import type { ValidateFunction } from "../core/json-schema.js";
import type { ChatMessage, FunctionTool, GenerationTiming, ModelBackend, RawCall, ToolCall } from "../models/types.js";
import type { ToolExecutor, ToolResult } from "./mcp-executor.js";
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
  /** The prompt the next case starts with: rendered ahead once this case's first reply is under way. */
  upcoming?: { messages: ChatMessage[]; tools: FunctionTool[] };
}

/** One held-out prompt, looped: model → call → result → model, until an answer or the turn limit. */
export async function runCase(evalCase: EvalCase, ctx: LoopContext): Promise<RunRecord> {
  const started = performance.now();
  let engineMs = 0;
  let toolMs = 0;
  let messages: ChatMessage[] = evalCase.prompt;
  const turns: TurnRecord[] = [];
  let outcome: RunOutcome = "turn_limit";
  let finalAnswer: string | undefined;
  let error: string | undefined;
  for (let turn = 0; turn < ctx.maxTurns; turn++) {
    let generation;
    const early = new EarlyCalls(ctx, messages, turn, evalCase.tools);
    try {
      generation = await ctx.backend.generate({
        messages,
        tools: evalCase.tools,
        ...(ctx.executor.prefetchable ? { onCall: early.onCall } : {}),
        ...(turn === 0 ? renderUpcoming(ctx) : {}),
      });
    } catch (e) {
      outcome = "model_error";
      error = (e as Error).message;
      break;
    } finally {
      early.finish();
    }
    engineMs += generation.timing.engineMs;
    const calls: CallRecord[] = generation.calls.map((c) => checkCall(c, ctx.validators));
    turns.push({
      raw: generation.raw,
      content: generation.content,
      attemptedCall: generation.attemptedCall,
      calls,
      timing: generation.timing,
    });
    if (!generation.attemptedCall) {
      outcome = "answered";
      finalAnswer = generation.content;
      break;
    }
    if (calls.length === 0 || calls.some((c) => c.check === "unparseable")) {
      outcome = "unparseable";
      break;
    }
    for (const [i, call] of calls.entries()) {
      const callStarted = performance.now();
      call.result =
        call.check === "ok"
          ? await (early.result(i, call) ?? ctx.executor.call(call.name!, call.arguments as Record<string, unknown>))
          : { content: `Error: ${call.problem}`, isError: true, source: "rejected" };
      toolMs += performance.now() - callStarted;
    }
    messages = early.renderedAhead(generation.content, calls) ?? withResults(messages, turn, generation.content, calls);
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

/**
 * Calls started while the model is still writing its reply (those the executor says cannot
 * change anything by running early), and the next prompt rendered ahead once their results are
 * in. The finished reply decides: only what it contains, unchanged, is used.
 */
class EarlyCalls {
  private readonly started: Array<{ key: string; call: CallRecord; result: Promise<ToolResult> } | null> = [];
  private generating = true;
  private ahead?: { keys: string[]; messages: ChatMessage[] };

  constructor(
    private readonly ctx: LoopContext,
    private readonly messages: readonly ChatMessage[],
    private readonly turn: number,
    private readonly tools: FunctionTool[],
  ) {}

  readonly onCall = (raw: RawCall, index: number): void => {
    const call = checkCall(raw, this.ctx.validators);
    if (call.check !== "ok" || !this.ctx.executor.prefetchable?.(call.name!)) {
      this.started[index] = null;
      return;
    }
    const result = this.ctx.executor.call(call.name!, call.arguments as Record<string, unknown>);
    // A result the finished reply does not confirm is dropped unread: its failure must not go unhandled.
    result.catch(() => undefined);
    this.started[index] = { key: callKey(call), call, result };
    if (this.ctx.backend.prepare) void this.renderAhead(index + 1);
  };

  finish(): void {
    this.generating = false;
  }

  result(index: number, call: CallRecord): Promise<ToolResult> | undefined {
    const started = this.started[index];
    return started?.key === callKey(call) ? started.result : undefined;
  }

  /** The next turn's messages, already rendered, when the reply was exactly the calls started early. */
  renderedAhead(content: string, calls: readonly CallRecord[]): ChatMessage[] | undefined {
    const ahead = this.ahead;
    const same =
      ahead &&
      content === "" &&
      ahead.keys.length === calls.length &&
      calls.every((c, i) => c.check === "ok" && callKey(c) === ahead.keys[i]);
    return same ? ahead.messages : undefined;
  }

  /** Once the results of the first `count` calls are in, and no other call has begun, the next prompt is rendered. */
  private async renderAhead(count: number): Promise<void> {
    const started = this.started.slice(0, count);
    if (started.some((s) => s === null)) return;
    const results = await Promise.all(started.map((s) => s!.result)).catch(() => undefined);
    if (!results || !this.generating || this.started.length !== count) return;
    const calls = started.map((s, i) => ({ ...s!.call, result: results[i]! }));
    const messages = withResults(this.messages, this.turn, "", calls);
    this.ctx.backend.prepare!(messages, this.tools);
    this.ahead = { keys: started.map((s) => s!.key), messages };
  }
}

/**
 * An `onText` that, at the reply's first piece, has the next case's prompt rendered while llama.cpp
 * works out the next token (on the next turn of the event loop, not in the token loop itself).
 */
function renderUpcoming(ctx: LoopContext): { onText?: () => void } {
  const { upcoming, backend } = ctx;
  if (!upcoming || !backend.prepare) return {};
  let done = false;
  return {
    onText: () => {
      if (done) return;
      done = true;
      setImmediate(() => backend.prepare!(upcoming.messages, upcoming.tools));
    },
  };
}

/** The conversation after a reply with calls: the reply, then each call's result. */
function withResults(
  messages: readonly ChatMessage[],
  turn: number,
  content: string,
  calls: readonly CallRecord[],
): ChatMessage[] {
  const ids = calls.map((_, i) => `call_${turn}_${i}`);
  const toolCalls: ToolCall[] = calls.map((c, i) => ({
    id: ids[i]!,
    type: "function",
    function: { name: c.name!, arguments: c.arguments as Record<string, unknown> },
  }));
  return [
    ...messages,
    { role: "assistant", content, tool_calls: toolCalls },
    ...calls.map((c, i): ChatMessage => ({
      role: "tool",
      tool_call_id: ids[i]!,
      name: c.name!,
      content: c.result!.content,
    })),
  ];
}

const callKey = (call: CallRecord) => `${call.name}\u0000${canonicalJson(call.arguments)}`;

function checkCall(
  call: { name?: string; arguments?: unknown; text: string; error?: string },
  validators: ReadonlyMap<string, ValidateFunction>,
): CallRecord {
  const base = {
    text: call.text,
    ...(call.name !== undefined ? { name: call.name } : {}),
    ...(call.arguments !== undefined ? { arguments: call.arguments } : {}),
  };
  if (call.error || call.name === undefined)
    return { ...base, check: "unparseable", problem: call.error ?? "no tool name" };
  const validate = validators.get(call.name);
  if (!validate) return { ...base, check: "unknown_tool", problem: `unknown tool "${call.name}"` };
  if (!validate(call.arguments)) {
    const first = validate.errors?.[0];
    return {
      ...base,
      check: "schema_invalid",
      problem: `arguments${first?.instancePath ?? ""} ${first?.message ?? "do not match the schema"}`,
    };
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

const ACKNOWLEDGES =
  /\b(error|errors|fail|failed|fails|failure|unable|could ?n[o']t|can ?n[o']t|cannot|not found|does ?n[o']t exist|does not exist|sorry|unfortunately|problem|issue|invalid|denied|unavailable|not available|try again|was ?n[o']t able|was not able|went wrong)\b/i;

/** After the last error result, a call succeeded, or the answer says something went wrong. */
function recoveredOrAcknowledged(turns: readonly TurnRecord[], answer: string): boolean {
  const calls = turns.flatMap((t) => t.calls);
  const lastError = calls.map((c) => c.check === "ok" && c.result?.isError === true).lastIndexOf(true);
  if (calls.slice(lastError + 1).some((c) => c.check === "ok" && c.result && !c.result.isError)) return true;
  return ACKNOWLEDGES.test(answer);
}
