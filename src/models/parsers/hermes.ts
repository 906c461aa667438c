import { GrammarBuilder } from "../grammar.js";
import type { FunctionTool, RawCall } from "../types.js";
import { callFromJson, type CallFormat, type ParsedOutput } from "./types.js";

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
      const end = afterOpen.indexOf(CLOSE);
      const body = end < 0 ? afterOpen : afterOpen.slice(0, end);
      calls.push(callFromJson(body.trim(), ["arguments", "parameters"]));
      rest = end < 0 ? "" : afterOpen.slice(end + CLOSE.length);
    }
    outside.push(rest);
    return { content: outside.join("").trim(), calls, attemptedCall: calls.length > 0 };
  },

  hasCompleteCall(text: string): boolean {
    const start = text.indexOf(OPEN);
    return start >= 0 && text.indexOf(CLOSE, start) >= 0;
  },

  grammar(tools: readonly FunctionTool[]): string {
    const g = new GrammarBuilder();
    const bodies = tools.map((tool) => {
      const args = g.schemaRule(tool.function.parameters, `${tool.function.name}-args`);
      const name = GrammarBuilder.literal(JSON.stringify(tool.function.name));
      return `( "{" ws "\\"name\\"" ws ":" ws ${name} ws "," ws "\\"arguments\\"" ws ":" ws ${args} ws "}" )`;
    });
    g.rule("call", `${GrammarBuilder.literal(`${OPEN}\n`)} ( ${bodies.join(" | ")} ) ${GrammarBuilder.literal(`\n${CLOSE}`)}`);
    g.rule("answer", "[^<\\x00] [^\\x00]*");
    return g.build('call ( "\\n" call )* | answer');
  },
};
