import { callAlternatives, GrammarBuilder } from "../grammar.js";
import type { FunctionTool, RawCall } from "../types.js";
import { balancedJsonEnd, type CallFormat, callFromJson, type ParsedOutput, scanJson } from "./types.js";

const PYTHON_TAG = "<|python_tag|>";

/**
 * Llama 3.1/3.2 JSON tool calls: the whole reply is `{"name": "…", "parameters": {…}}`,
 * optionally after `<|python_tag|>`; several calls are separated by `;`.
 */
export const llama3JsonFormat: CallFormat = {
  name: "llama3-json",

  parse(text: string): ParsedOutput {
    let body = text.trim();
    const tagged = body.startsWith(PYTHON_TAG);
    if (tagged) body = body.slice(PYTHON_TAG.length).trim();
    if (!body.startsWith("{")) {
      return tagged
        ? { content: "", calls: [{ text: body, error: "no JSON call after <|python_tag|>" }], attemptedCall: true }
        : { content: body, calls: [], attemptedCall: false };
    }
    const calls: RawCall[] = splitTopLevel(body).map((part) => callFromJson(part, ["parameters", "arguments"]));
    return { content: "", calls, attemptedCall: true };
  },

  hasCompleteCall(text: string): boolean {
    const body = text.trim().replace(PYTHON_TAG, "").trim();
    if (!body.startsWith("{")) return false;
    const first = splitTopLevel(body)[0] ?? "";
    return balancedJsonEnd(first) === first.length;
  },

  closedCalls(text: string): RawCall[] {
    const body = text.trim().replace(PYTHON_TAG, "").trim();
    if (!body.startsWith("{")) return [];
    const parts = splitTopLevel(body);
    const open = parts.findIndex((part) => balancedJsonEnd(part) !== part.length);
    return (open < 0 ? parts : parts.slice(0, open)).map((part) => callFromJson(part, ["parameters", "arguments"]));
  },

  grammar(tools: readonly FunctionTool[]) {
    const g = new GrammarBuilder();
    const { alternatives, longest } = callAlternatives(g, tools, "parameters");
    g.rule("call", alternatives);
    g.rule("answer", "[^{<\\x00] [^\\x00]*");
    return { gbnf: g.build("call | answer"), maxCallLength: longest };
  },
};

/** Splits `{…}; {…}` at top-level semicolons, respecting strings and nesting. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let end; (end = scanJson(text, start, (c, depth) => c === ";" && depth === 0)) >= 0; start = end + 1)
    parts.push(text.slice(start, end).trim());
  parts.push(text.slice(start).trim());
  return parts.filter((p) => p.length > 0);
}
