import { redactSecrets as redactAll } from "../core/redact.js";
import type { McpTool } from "../core/toolset.js";
import type { Rng } from "./rng.js";
import type { ResultSource } from "./sample.js";
import { ArgGenerator } from "./schema-args.js";
import { alignWithCall, confirmation } from "./stub-result.js";
import { formatValue } from "./text.js";
import { Grounding } from "./values/grounding.js";

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
 * A first line that opens with an error word: "Error: …", "ERROR 1064 …", "ValueError: …", "Traceback (most recent
 * call last)", "Exception in thread …", "MCP error -32602: …", "Failed to …", "Not found: …", "Invalid arguments".
 * "error", "err" and "fatal" also open prose ("Error handling guide"), so they count only with the mark or code an
 * error puts after them.
 */
const ERROR_LINE =
  /^\s*(?:\[(?:error|err|fatal)\]|(?:error|err|fatal)\s*(?:[:!\-—]|\d+\b)|[\w.]*(?:error|exception)\s*:|exception in thread\b|mcp error\b|traceback \(most recent call last\)|failed\b|failure\b|unable to\b|could not\b|permission denied\b|access denied\b|unauthori[sz]ed\b|forbidden\b|not found\b|invalid\b)/i;

/** JSON cut short at MAX_RESULT_CHARS no longer parses: it is an error when its first key holds one. */
const ERROR_FIRST_KEY = /^\{\s*"(?:error|errors|err)"\s*:\s*(?!null\b|false\b|\[\s*\])/;

/**
 * Whether a result's text reports a failure although the server did not set `isError`: an error
 * word opening the text, or a JSON object whose status says so ({"error": …}, {"err": …},
 * {"success": false}, {"ok": false}, {"status": "error"}). The generator records such a result as
 * an error, and QC's errorTextInSuccess flags a success that carries one.
 */
export function looksLikeError(text: string): boolean {
  if (ERROR_LINE.test(text)) return true;
  const t = text.trim();
  if (!t.startsWith("{")) return false;
  try {
    const json = JSON.parse(t) as Record<string, unknown>;
    if (typeof json !== "object" || json === null || Array.isArray(json)) return false;
    if (json.success === false || json.ok === false || json.status === "error" || json.status === "failed") return true;
    const error = json.error ?? json.errors ?? json.err;
    return (
      error !== undefined &&
      error !== null &&
      error !== false &&
      !(Array.isArray(error) && error.length === 0) &&
      !("result" in json) &&
      !("data" in json)
    );
  } catch {
    return ERROR_FIRST_KEY.test(t);
  }
}

/**
 * Server output can echo our environment (a server that prints its env, an error that quotes a
 * header): secrets never reach a dataset. The layer is src/core/redact.ts.
 */
export function redactSecrets(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return redactAll(text, env);
}
