import OpenAI from "openai";

import { environmentMissing } from "../core/errors.js";
import type { ChatMessage, GenerateRequest, Generation, ModelBackend, RawCall } from "./types.js";

export interface OpenAiBackendOptions {
  baseUrl?: string;
  /** Environment variable holding the key (default OPENAI_API_KEY). */
  apiKeyEnv?: string;
  seed?: number;
  maxTokens?: number;
  env?: NodeJS.ProcessEnv;
}

/** An OpenAI-compatible chat completions endpoint, with native tools and tool_calls on the wire. */
export class OpenAiBackend implements ModelBackend {
  readonly kind = "openai" as const;
  readonly constrained = false;
  private readonly client: OpenAI;

  constructor(
    readonly id: string,
    private readonly modelName: string,
    private readonly options: OpenAiBackendOptions = {},
  ) {
    const keyName = options.apiKeyEnv ?? "OPENAI_API_KEY";
    const key = (options.env ?? process.env)[keyName];
    if (!key && !options.baseUrl) {
      throw environmentMissing(
        `--model ${id}: ${keyName} is not set`,
        `export ${keyName}=… or pass --base-url for a local endpoint`,
      );
    }
    this.client = new OpenAI({ apiKey: key ?? "unused", baseURL: options.baseUrl, maxRetries: 1 });
  }

  async generate(request: GenerateRequest): Promise<Generation> {
    const started = performance.now();
    const stream = await this.client.chat.completions.create({
      model: this.modelName,
      messages: request.messages.map(toWireMessage),
      ...(request.tools.length > 0 ? { tools: request.tools as OpenAI.Chat.ChatCompletionTool[] } : {}),
      temperature: 0,
      seed: this.options.seed ?? 0,
      max_tokens: request.maxTokens ?? this.options.maxTokens ?? 512,
      stream: true,
      stream_options: { include_usage: true },
    });
    let firstTokenMs: number | undefined;
    let toolCallMs: number | undefined;
    let content = "";
    let promptTokens = 0;
    let generatedTokens = 0;
    const calls = new Map<number, { name: string; args: string }>();
    for await (const chunk of stream) {
      if (chunk.usage) {
        promptTokens = chunk.usage.prompt_tokens;
        generatedTokens = chunk.usage.completion_tokens;
      }
      const choice = chunk.choices[0];
      if (!choice) continue;
      const delta = choice.delta;
      if (delta.content || delta.tool_calls?.length) firstTokenMs ??= performance.now() - started;
      if (delta.content) content += delta.content;
      for (const part of delta.tool_calls ?? []) {
        const call = calls.get(part.index) ?? { name: "", args: "" };
        call.name += part.function?.name ?? "";
        call.args += part.function?.arguments ?? "";
        calls.set(part.index, call);
      }
      if (choice.finish_reason === "tool_calls" || (calls.size > 0 && choice.finish_reason)) {
        toolCallMs ??= performance.now() - started;
      }
    }
    const parsed = [...calls.entries()].sort(([a], [b]) => a - b).map(([, c]) => wireCall(c.name, c.args));
    const totalMs = performance.now() - started;
    return {
      raw: content + parsed.map((c) => c.text).join(""),
      content: content.trim(),
      calls: parsed,
      attemptedCall: parsed.length > 0,
      timing: {
        firstTokenMs: firstTokenMs ?? totalMs,
        ...(toolCallMs !== undefined ? { toolCallMs } : {}),
        totalMs,
        promptTokens,
        evaluatedPromptTokens: promptTokens,
        generatedTokens,
        engineMs: totalMs,
      },
    };
  }

  async close(): Promise<void> {}
}

function wireCall(name: string, args: string): RawCall {
  const text = JSON.stringify({ name, arguments: args });
  if (!name) return { text, error: "the call has no function name" };
  let value: unknown;
  try {
    value = JSON.parse(args === "" ? "{}" : args);
  } catch (error) {
    return { text, name, error: `arguments are not valid JSON: ${(error as Error).message}` };
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    return { text, name, arguments: value, error: "arguments are not a JSON object" };
  }
  return { text, name, arguments: value };
}

function toWireMessage(message: ChatMessage): OpenAI.Chat.ChatCompletionMessageParam {
  switch (message.role) {
    case "system":
      return { role: "system", content: message.content };
    case "user":
      return { role: "user", content: message.content };
    case "tool":
      return { role: "tool", content: message.content, tool_call_id: message.tool_call_id ?? "" };
    case "assistant":
      return message.tool_calls?.length
        ? {
            role: "assistant",
            content: message.content || null,
            tool_calls: message.tool_calls.map((c) => ({
              id: c.id,
              type: "function" as const,
              function: { name: c.function.name, arguments: JSON.stringify(c.function.arguments) },
            })),
          }
        : { role: "assistant", content: message.content };
  }
}
