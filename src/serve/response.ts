import { randomBytes } from "node:crypto";
import type { Generation, RawCall } from "../models/types.js";

export type FinishReason = "stop" | "length" | "tool_calls";

interface WireToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** One generation as OpenAI's wire objects: ids, finish reason, tool calls, usage. */
export interface Completion {
  id: string;
  created: number;
  model: string;
  content: string | null;
  toolCalls: WireToolCall[];
  finishReason: FinishReason;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

export function toCompletion(model: string, generation: Generation, maxTokens: number): Completion {
  const toolCalls = generation.calls.map((call, i) => ({
    id: `call_${randomBytes(8).toString("hex")}_${i}`,
    type: "function" as const,
    function: { name: call.name ?? "", arguments: wireArguments(call) },
  }));
  const { promptTokens, generatedTokens } = generation.timing;
  return {
    id: `chatcmpl-${randomBytes(12).toString("hex")}`,
    created: Math.floor(Date.now() / 1000),
    model,
    content: generation.content === "" && toolCalls.length > 0 ? null : generation.content,
    toolCalls,
    finishReason: toolCalls.length > 0 ? "tool_calls" : generatedTokens >= maxTokens ? "length" : "stop",
    usage: { prompt_tokens: promptTokens, completion_tokens: generatedTokens, total_tokens: promptTokens + generatedTokens },
  };
}

/**
 * A call's arguments as the JSON string OpenAI sends. A call the model wrote badly stays bad on
 * the wire (arguments a client cannot parse into an object), so a client scores it as the
 * in-process parser does instead of receiving a call that looks fine.
 */
function wireArguments(call: RawCall): string {
  if (!call.error) return JSON.stringify(call.arguments);
  if (call.arguments !== undefined) return JSON.stringify(call.arguments);
  return call.error.startsWith("not valid JSON") ? call.text : "null";
}

/** The non-streaming answer: a `chat.completion` object. */
export function completionObject(c: Completion): Record<string, unknown> {
  return {
    id: c.id,
    object: "chat.completion",
    created: c.created,
    model: c.model,
    system_fingerprint: null,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: c.content, refusal: null, ...(c.toolCalls.length > 0 ? { tool_calls: c.toolCalls } : {}) },
        logprobs: null,
        finish_reason: c.finishReason,
      },
    ],
    usage: c.usage,
  };
}

/**
 * The streaming answer: `chat.completion.chunk` objects as OpenAI sends them (role first, then
 * content, each tool call's id and name, then its arguments, the finish reason, and usage when
 * asked for). The whole generation is known by then: llama.cpp runs before the first chunk.
 */
export function completionChunks(c: Completion, includeUsage: boolean): Array<Record<string, unknown>> {
  const chunk = (delta: Record<string, unknown>, finish: FinishReason | null = null) => ({
    id: c.id,
    object: "chat.completion.chunk",
    created: c.created,
    model: c.model,
    system_fingerprint: null,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(includeUsage ? { usage: null } : {}),
  });
  const chunks: Array<Record<string, unknown>> = [chunk({ role: "assistant", content: "", refusal: null })];
  if (c.content) chunks.push(chunk({ content: c.content }));
  c.toolCalls.forEach((call, index) => {
    chunks.push(chunk({ tool_calls: [{ index, id: call.id, type: "function", function: { name: call.function.name, arguments: "" } }] }));
    chunks.push(chunk({ tool_calls: [{ index, function: { arguments: call.function.arguments } }] }));
  });
  chunks.push(chunk({}, c.finishReason));
  if (includeUsage) {
    chunks.push({ id: c.id, object: "chat.completion.chunk", created: c.created, model: c.model, system_fingerprint: null, choices: [], usage: c.usage });
  }
  return chunks;
}
