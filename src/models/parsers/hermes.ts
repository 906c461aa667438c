import { callAlternatives, GrammarBuilder } from "../grammar.js";
import type { FunctionTool, RawCall } from "../types.js";
import { balancedJsonEnd, type CallFormat, callFromJson, MAX_CONSTRAINED_CALLS, type ParsedOutput } from "./types.js";

const OPEN = "<tool_call>";
const CLOSE = "</tool_call>";

/**
 * Hermes style, used by Qwen2/2.5/3 and the tiny model:
 * `<tool_call>\n{"name": "…", "arguments": {…}}\n</tool_call>`, several calls one after another.
 */
export const hermesFormat: CallFormat = {
  name: "hermes",

  parse(text: string): ParsedOutput {
    const calls: RawCall[] = [];
    const outside: string[] = [];
    let rest = text;
    for (;;) {
      const start = rest.indexOf(OPEN);
      if (start < 0) break;
      outside.push(rest.slice(0, start));
      const afterOpen = rest.slice(start + OPEN.length);
      const { body, after } = splitAtClose(afterOpen);
      calls.push(callFromJson(body.trim(), ["arguments", "parameters"]));
      rest = after;
    }
    outside.push(rest);
    return { content: outside.join("").trim(), calls, attemptedCall: calls.length > 0 };
  },

  hasCompleteCall(text: string): boolean {
    const start = text.indexOf(OPEN);
    if (start < 0 || text.indexOf(CLOSE, start) < 0) return false;
    const rest = text.slice(start + OPEN.length);
    const jsonStart = rest.search(/\S/);
    if (rest[jsonStart] === "{" && balancedJsonEnd(rest, jsonStart) < 0) return false;
    return splitAtClose(rest).closed;
  },

  closedCalls(text: string): RawCall[] {
    const calls: RawCall[] = [];
    for (let open = text.indexOf(OPEN); open >= 0;) {
      const jsonStart = open + OPEN.length + text.slice(open + OPEN.length).search(/\S/);
      if (text[jsonStart] !== "{") break;
      const jsonEnd = balancedJsonEnd(text, jsonStart);
      if (jsonEnd < 0) break;
      calls.push(callFromJson(text.slice(jsonStart, jsonEnd), ["arguments", "parameters"]));
      open = text.indexOf(OPEN, jsonEnd);
    }
    return calls;
  },

  grammar(tools: readonly FunctionTool[]) {
    const g = new GrammarBuilder();
    const { alternatives, longest } = callAlternatives(g, tools, "arguments");
    g.rule(
      "call",
      `${GrammarBuilder.literal(`${OPEN}\n`)} ( ${alternatives} ) ${GrammarBuilder.literal(`\n${CLOSE}`)}`,
    );
    // An answer may not contain the call marker: under the grammar a reply is calls or text, never
    // text followed by a call the grammar does not cover.
    g.textWithout("answer", OPEN);
    return {
      gbnf: g.build(`call ( "\\n" call ){0,${MAX_CONSTRAINED_CALLS - 1}} | answer`),
      maxCallLength: MAX_CONSTRAINED_CALLS * (longest + OPEN.length + CLOSE.length + 3),
    };
  },
};

/**
 * The call body and the text after `</tool_call>`. The close tag is looked for after the JSON
 * object when it is balanced, so a "</tool_call>" inside a string value does not end the call.
 */
function splitAtClose(text: string): { body: string; after: string; closed: boolean } {
  const jsonStart = text.search(/\S/);
  const jsonEnd = text[jsonStart] === "{" ? balancedJsonEnd(text, jsonStart) : -1;
  const from = jsonEnd < 0 ? 0 : jsonEnd;
  const end = text.indexOf(CLOSE, from);
  if (end < 0) return { body: text, after: "", closed: false };
  return { body: text.slice(0, end), after: text.slice(end + CLOSE.length), closed: true };
}
