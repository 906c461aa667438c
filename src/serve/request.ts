import { findRefCycle, findSchemaProblem } from "../core/json-schema.js";
import type { ChatMessage, FunctionTool, ToolCall } from "../models/types.js";

/** A request OpenAI would refuse: answered with HTTP `status` and OpenAI's error object. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly type = "invalid_request_error",
  ) {
    super(message);
  }
}

/** A chat completion request, checked. */
export interface CompletionRequest {
  model: string;
  messages: ChatMessage[];
  tools: FunctionTool[];
  maxTokens?: number;
  stream: boolean;
  includeUsage: boolean;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const ROLES = new Set(["system", "developer", "user", "assistant", "tool"]);

/**
 * Reads a POST /v1/chat/completions body in OpenAI's wire shape: tool-call arguments as JSON
 * strings, `developer` as a system turn, text content parts joined. Sampling settings
 * (temperature, top_p, seed) are accepted; decoding is greedy, as the model was validated.
 */
export function parseCompletionRequest(body: unknown, options: { constrained?: boolean } = {}): CompletionRequest {
  if (!isObject(body)) throw new RequestError(400, "the request body must be a JSON object");
  if (typeof body.model !== "string" || body.model === "")
    throw new RequestError(400, "you must provide a model parameter", "model");
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    throw new RequestError(400, "'messages' must be a non-empty array of messages", "messages");
  }
  const messages = body.messages.map((m, i) => parseMessage(m, `messages[${i}]`));
  nameToolResults(messages);
  const stream = optionalType(body.stream, "stream", "boolean") ?? false;
  const n = optionalType(body.n, "n", "number");
  if (n !== undefined && n !== 1) throw new RequestError(400, "only n=1 is supported: one completion per request", "n");
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  const maxParam = body.max_completion_tokens !== undefined ? "max_completion_tokens" : "max_tokens";
  if (maxTokens !== undefined && maxTokens !== null && !(Number.isInteger(maxTokens) && (maxTokens as number) >= 1)) {
    throw new RequestError(400, `'${maxParam}' must be a whole number, 1 or more`, maxParam);
  }
  for (const key of ["temperature", "top_p", "seed"] as const) optionalType(body[key], key, "number");
  const streamOptions = body.stream_options;
  if (streamOptions !== undefined && streamOptions !== null && !isObject(streamOptions)) {
    throw new RequestError(400, "'stream_options' must be an object", "stream_options");
  }
  const includeUsage =
    optionalType(
      isObject(streamOptions) ? streamOptions.include_usage : undefined,
      "stream_options.include_usage",
      "boolean",
    ) ?? false;
  return {
    model: body.model,
    messages,
    tools: toolsFor(body, options.constrained === true),
    ...(typeof maxTokens === "number" ? { maxTokens } : {}),
    stream,
    includeUsage,
  };
}

function toolsFor(body: Json, constrained: boolean): FunctionTool[] {
  const choice = body.tool_choice;
  if (choice !== undefined && choice !== null && choice !== "auto" && choice !== "none") {
    throw new RequestError(
      400,
      'tool_choice supports "auto" and "none": the model decides itself whether to call a tool',
      "tool_choice",
      "unsupported_value",
    );
  }
  if (body.tools === undefined || body.tools === null) return [];
  if (!Array.isArray(body.tools)) throw new RequestError(400, "'tools' must be an array", "tools");
  const tools = body.tools.map((t, i) => parseTool(t, `tools[${i}]`, constrained));
  return choice === "none" ? [] : tools;
}

function parseTool(value: unknown, where: string, constrained: boolean): FunctionTool {
  if (!isObject(value) || value.type !== "function" || !isObject(value.function)) {
    throw new RequestError(400, `${where} must be {"type": "function", "function": {...}}`, where);
  }
  const fn = value.function;
  if (typeof fn.name !== "string" || !/^[a-zA-Z0-9_.-]{1,64}$/.test(fn.name)) {
    throw new RequestError(
      400,
      `${where}.function.name must be a string of letters, digits, _ . or -, at most 64`,
      `${where}.function.name`,
    );
  }
  if (fn.description !== undefined && typeof fn.description !== "string") {
    throw new RequestError(400, `${where}.function.description must be a string`, `${where}.function.description`);
  }
  if (fn.parameters !== undefined) checkParameters(fn.parameters, `${where}.function.parameters`, constrained);
  return {
    type: "function",
    function: {
      name: fn.name,
      ...(fn.description !== undefined ? { description: fn.description } : {}),
      parameters: (fn.parameters as Json | undefined) ?? { type: "object", properties: {} },
    },
  };
}

/** Parameters are a valid JSON Schema for an object; under a grammar, one that does not refer to itself. */
function checkParameters(schema: unknown, where: string, constrained: boolean): asserts schema is Json {
  if (!isObject(schema)) throw new RequestError(400, `${where} must be a JSON Schema object`, where);
  if (schema.type !== undefined && schema.type !== "object") {
    throw new RequestError(
      400,
      `${where}.type must be "object" (a function's arguments are an object), got ${JSON.stringify(schema.type)?.slice(0, 40)}`,
      where,
    );
  }
  const problem = findSchemaProblem(schema, "");
  if (problem)
    throw new RequestError(400, `${where}: invalid JSON Schema at ${problem.pointer}: ${problem.message}`, where);
  const cycle = constrained ? findRefCycle(schema) : undefined;
  if (cycle !== undefined) {
    throw new RequestError(
      400,
      `${where}: the $ref at ${cycle} leads back to itself; --constrained cannot build a grammar for a recursive schema`,
      where,
      "unsupported_value",
    );
  }
}

function parseMessage(value: unknown, where: string): ChatMessage {
  if (!isObject(value)) throw new RequestError(400, `${where} must be an object`, where);
  const role = value.role;
  if (typeof role !== "string" || !ROLES.has(role)) {
    throw new RequestError(
      400,
      `${where}.role must be one of system, developer, user, assistant, tool`,
      `${where}.role`,
    );
  }
  const toolCalls = role === "assistant" ? parseToolCalls(value.tool_calls, `${where}.tool_calls`) : [];
  const content = contentText(value.content, `${where}.content`, role === "assistant" && toolCalls.length > 0);
  switch (role) {
    case "system":
    case "developer":
      return { role: "system", content };
    case "user":
      return { role: "user", content };
    case "assistant":
      return toolCalls.length > 0 ? { role, content, tool_calls: toolCalls } : { role, content };
    default: {
      if (typeof value.tool_call_id !== "string")
        throw new RequestError(400, `${where}.tool_call_id must be a string`, `${where}.tool_call_id`);
      return { role: "tool", content, tool_call_id: value.tool_call_id };
    }
  }
}

function contentText(value: unknown, where: string, mayBeEmpty: boolean): string {
  if (typeof value === "string") return value;
  if ((value === null || value === undefined) && mayBeEmpty) return "";
  if (Array.isArray(value)) {
    return value
      .map((part, i) => {
        if (isObject(part) && part.type === "text" && typeof part.text === "string") return part.text;
        throw new RequestError(400, `${where}[${i}]: only text parts are supported`, `${where}[${i}]`);
      })
      .join("");
  }
  throw new RequestError(400, `${where} must be a string or an array of text parts`, where);
}

function parseToolCalls(value: unknown, where: string): ToolCall[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new RequestError(400, `${where} must be an array`, where);
  return value.map((call, i) => {
    const at = `${where}[${i}]`;
    if (!isObject(call) || !isObject(call.function) || typeof call.function.name !== "string") {
      throw new RequestError(400, `${at} must be {"id", "type": "function", "function": {"name", "arguments"}}`, at);
    }
    const raw = call.function.arguments;
    let args: unknown;
    try {
      args = typeof raw === "string" ? JSON.parse(raw === "" ? "{}" : raw) : raw;
    } catch {
      throw new RequestError(400, `${at}.function.arguments is not valid JSON`, `${at}.function.arguments`);
    }
    if (!isObject(args))
      throw new RequestError(
        400,
        `${at}.function.arguments must be a JSON object (as a string)`,
        `${at}.function.arguments`,
      );
    return {
      id: typeof call.id === "string" ? call.id : `call_${i}`,
      type: "function",
      function: { name: call.function.name, arguments: args },
    };
  });
}

/** Tool results carry the tool's name in the chat template; on the wire only the call id does. */
function nameToolResults(messages: ChatMessage[]): void {
  const names = new Map<string, string>();
  for (const m of messages) {
    for (const c of m.tool_calls ?? []) names.set(c.id, c.function.name);
    if (m.role === "tool" && m.tool_call_id !== undefined) {
      const name = names.get(m.tool_call_id);
      if (name !== undefined) m.name = name;
    }
  }
}

function optionalType<T extends "boolean" | "number">(
  value: unknown,
  param: string,
  type: T,
): (T extends "boolean" ? boolean : number) | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== type || (type === "number" && !Number.isFinite(value)))
    throw new RequestError(400, `'${param}' must be a ${type}`, param);
  return value as T extends "boolean" ? boolean : number;
}
