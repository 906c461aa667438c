import { redactSecrets as redactAll } from "../../core/redact.js";
import type { McpTool } from "../../core/toolset.js";
import { looksLikeError } from "../../samples/error-text.js";
import type { ResultSource } from "../../samples/sample.js";
import type { Rng } from "./rng.js";
import { alignWithCall, confirmation } from "./stub-result.js";
import { Grounding } from "./values/grounding.js";
import { ArgGenerator } from "./values/schema-args.js";
import { formatValue } from "./wording/text.js";

/** A tool result as the tool message carries it. */
export interface ToolResult {
  content: string;
  isError: boolean;
  source: ResultSource;
}

/** Longest tool message kept; server output is untrusted and can be huge. */
export const MAX_RESULT_CHARS = 2000;

/** The text of an MCP CallToolResult: text items joined, other items named, structured content as JSON. */
export function resultText(result: { content?: unknown; structuredContent?: unknown }): string {
  const parts: string[] = [];
  for (const item of Array.isArray(result.content) ? result.content : []) {
    const c = item as {
      type?: string;
      text?: string;
      mimeType?: string;
      uri?: string;
      resource?: { uri?: string; text?: string };
    };
    if (c.type === "text" && typeof c.text === "string") parts.push(c.text);
    else if (c.type === "image" || c.type === "audio") parts.push(`[${c.type}: ${c.mimeType ?? "binary"}]`);
    else if (c.type === "resource") parts.push(c.resource?.text ?? `[resource: ${c.resource?.uri ?? ""}]`);
    else if (c.type === "resource_link") parts.push(`[resource link: ${c.uri ?? ""}]`);
  }
  if (parts.length === 0 && result.structuredContent !== undefined)
    parts.push(JSON.stringify(result.structuredContent));
  return clip(parts.join("\n"));
}

export function clip(text: string): string {
  return text.length > MAX_RESULT_CHARS ? `${text.slice(0, MAX_RESULT_CHARS - 1)}…` : text;
}

const stubGenerators = new Map<string, ArgGenerator | null>();

/** A deterministic result: values drawn from the tool's outputSchema, or a plain text line. */
export function stubResult(tool: McpTool, args: Record<string, unknown>, rng: Rng): ToolResult {
  const key = tool.outputSchema ? JSON.stringify(tool.outputSchema) : "";
  let gen = stubGenerators.get(key);
  if (gen === undefined && tool.outputSchema) {
    try {
      gen = new ArgGenerator(tool.outputSchema, `tool "${tool.name}" outputSchema`, new Grounding(tool.name));
    } catch {
      gen = null;
    }
    stubGenerators.set(key, gen);
  }
  // A stub success agrees with the call and never reads as a failure ({"success": false}): a few draws, then the text result.
  for (let i = 0; gen && i < 5; i++) {
    try {
      const output = alignWithCall(tool, gen.generate(rng), args);
      const content = clip(JSON.stringify(output));
      if (gen.isValid(output) && !looksLikeError(content)) return { content, isError: false, source: "stub" };
    } catch {
      break;
    }
  }
  return { content: confirmation(tool, args), isError: false, source: "text" };
}

const ERRORS = [
  "Error: the service is temporarily unavailable (503). Try again later.",
  "Error: the request timed out after 30 seconds.",
  "Error: permission denied for this operation.",
  "Error: rate limit exceeded; retry in 60 seconds.",
  "Error: internal server error.",
];

/** A plausible error result for a tool that is not run: a transient failure, or nothing found for its first value. */
export function stubError(tool: McpTool, args: Record<string, unknown>, rng: Rng): ToolResult {
  const first = Object.values(args).find((v) => typeof v === "string" || typeof v === "number");
  const notFound = first !== undefined ? [`Error: nothing found for ${formatValue(first)}.`] : [];
  return { content: rng.pick([...ERRORS, ...notFound]), isError: true, source: "stub" };
}

/** A transient failure (unavailable, timed out, rate limited): the only stub error that cannot contradict what a server answered. */
export function transientError(rng: Rng): ToolResult {
  return { content: rng.pick(ERRORS.filter((e) => !/permission/.test(e))), isError: true, source: "stub" };
}

/**
 * Server output can echo our environment (a server that prints its env, an error that quotes a
 * header): secrets never reach a dataset. The layer is src/core/redact.ts.
 */
export function redactSecrets(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return redactAll(text, env);
}
