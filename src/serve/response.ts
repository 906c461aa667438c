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
  usage: Usage;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function toCompletion(model: string, generation: Generation, maxTokens: number): Completion {
  const toolCalls = generation.calls.map((call, i) => ({
    id: toolCallId(i),
    type: "function" as const,
    function: { name: call.name ?? "", arguments: wireArguments(call) },
  }));
  return {
    id: completionId(),
    created: Math.floor(Date.now() / 1000),
    model,
    content: generation.content === "" && toolCalls.length > 0 ? null : generation.content,
    toolCalls,
    finishReason: finishReason(generation, maxTokens),
    usage: usage(generation),
  };
}

export const completionId = () => `chatcmpl-${randomBytes(12).toString("hex")}`;
export const toolCallId = (index: number) => `call_${randomBytes(8).toString("hex")}_${index}`;

export function finishReason(generation: Generation, maxTokens: number): FinishReason {
  if (generation.calls.length > 0) return "tool_calls";
  return generation.timing.generatedTokens >= maxTokens ? "length" : "stop";
}

export function usage(generation: Generation): Usage {
  const { promptTokens, generatedTokens } = generation.timing;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: generatedTokens,
    total_tokens: promptTokens + generatedTokens,
  };
}

/**
 * A call's arguments as the JSON string OpenAI sends. A call the model wrote badly stays bad on
 * the wire (arguments a client cannot parse into an object), so a client scores it as the
 * in-process parser does instead of receiving a call that looks fine.
 */
export function wireArguments(call: RawCall): string {
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
        message: {
          role: "assistant",
          content: c.content,
          refusal: null,
          ...(c.toolCalls.length > 0 ? { tool_calls: c.toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: c.finishReason,
      },
    ],
    usage: c.usage,
  };
}
