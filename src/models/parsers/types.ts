import type { FunctionTool, RawCall } from "../types.js";

/** Most calls in one constrained reply: a bound on its length. */
export const MAX_CONSTRAINED_CALLS = 2;

export interface ParsedOutput {
  /** Text outside the calls, trimmed. */
  content: string;
  calls: RawCall[];
  /** The model tried to call a tool, whether or not the call parses. */
  attemptedCall: boolean;
}

/** How one family of chat templates writes tool calls: parsing and a grammar for constrained decoding. */
export interface CallFormat {
  readonly name: "hermes" | "llama3-json";
  parse(text: string): ParsedOutput;
  /** True once `text` (a prefix of the output) holds a complete call; used to time the call. */
  hasCompleteCall(text: string): boolean;
  /**
   * The calls in `text` (a prefix of the output) whose JSON has closed, in order; the markup
   * after them may still be coming, and a later token can still make the reply malformed.
   */
  closedCalls(text: string): RawCall[];
  /**
   * GBNF that admits a final text answer or calls valid against the tools' schemas, and the
   * longest call text it admits (characters; Infinity when unbounded).
   */
  grammar(tools: readonly FunctionTool[]): { gbnf: string; maxCallLength: number };
}

/** Reads `{"name": …, "<argsKey>": {…}}` into a call; anything else becomes a call with an error. */
export function callFromJson(text: string, argsKeys: readonly string[]): RawCall {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { text, error: `not valid JSON: ${(error as Error).message}` };
  }
  if (!value || typeof value !== "object" || Array.isArray(value))
    return { text, error: "the call is not a JSON object" };
  const object = value as Record<string, unknown>;
  const name = typeof object.name === "string" ? object.name : undefined;
  const argsKey = argsKeys.find((k) => k in object);
  const args = argsKey === undefined ? undefined : object[argsKey];
  if (name === undefined) return { text, arguments: args, error: 'the call has no string "name"' };
  if (args === undefined) return { text, name, error: `the call has no "${argsKeys[0]}"` };
  if (!args || typeof args !== "object" || Array.isArray(args)) {
    return { text, name, arguments: args, error: `"${argsKey}" is ${describe(args)}, not a JSON object` };
  }
  return { text, name, arguments: args };
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

/**
 * The index of the first character from `start`, outside JSON strings, at which `at(c, depth)` holds,
 * `depth` counting the brackets open after that character; -1 when there is none.
 */
export function scanJson(text: string, start: number, at: (c: string, depth: number) => boolean): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
    if (at(c, depth)) return i;
  }
  return -1;
}

/** The index just past the JSON object or array that starts at `start`, or -1 if it never closes. */
export function balancedJsonEnd(text: string, start = 0): number {
  const last = scanJson(text, start, (c, depth) => depth === 0 && (c === "}" || c === "]"));
  return last < 0 ? -1 : last + 1;
}
