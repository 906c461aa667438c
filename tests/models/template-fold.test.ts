import { readFileSync } from "node:fs";
import { join } from "node:path";

import { Environment, Template } from "@huggingface/jinja";
import { describe, expect, it } from "vitest";

import { ChatTemplate } from "../../src/models/template.js";
import { foldToolLoops } from "../../src/models/template-fold.js";
import type { ChatMessage, FunctionTool } from "../../src/models/types.js";

const dir = join(import.meta.dirname, "..", "fixtures", "templates");
const read = (name: string) => readFileSync(join(dir, name), "utf8");
const conversation = JSON.parse(read("conversation.json")) as {
  tools: FunctionTool[];
  messages: ChatMessage[];
  bos_token: string;
  date_string: string;
};

const otherTools: FunctionTool[] = [
  {
    type: "function",
    function: {
      name: "read_graph",
      description: "Read the whole graph",
      parameters: { type: "object", properties: {} },
    },
  },
  {
    type: "function",
    function: {
      name: "add",
      parameters: {
        type: "object",
        properties: { a: { type: "integer" }, b: { type: "array", items: { type: "string" } } },
        required: ["a"],
      },
    },
  },
];

/** Renders like ChatTemplate but with the template's own program, nothing folded. */
function unfolded(source: string, messages: ChatMessage[], tools: FunctionTool[]): string {
  return new Template(source).render({
    messages,
    tools,
    add_generation_prompt: true,
    bos_token: conversation.bos_token,
    eos_token: "",
    date_string: conversation.date_string,
  });
}

type Node = { type: string; body?: Node[]; alternate?: Node[] };

/** How many loops, at the top or inside `if` blocks, were replaced by their rendered text. */
function folded(source: string): number {
  const loops = (nodes: Node[] = []): number =>
    nodes.reduce((n, s) => n + (s.type === "For" ? 1 : s.type === "If" ? loops(s.body) + loops(s.alternate) : 0), 0);
  const program = new Template(source).parsed;
  const after = foldToolLoops(program, new Environment().set("tools", conversation.tools));
  return loops(program.body as unknown as Node[]) - loops(after.body as unknown as Node[]);
}

describe("tool loops rendered once per toolset", () => {
  it.each(["qwen2.5-instruct", "tiny", "llama-3.2-instruct"])(
    "%s: every turn and toolset renders exactly as without folding",
    (name) => {
      const source = read(`${name}.jinja`);
      const template = new ChatTemplate(source, { bosToken: conversation.bos_token, eosToken: "" });
      for (const tools of [conversation.tools, otherTools, conversation.tools]) {
        for (let n = 2; n <= conversation.messages.length; n++) {
          const messages = conversation.messages.slice(0, n);
          expect(template.render(messages, tools, true, { date_string: conversation.date_string })).toBe(
            unfolded(source, messages, tools),
          );
        }
      }
    },
  );

  it("folds the tools loop of the Qwen 2.5, tiny and Llama 3.2 templates", () => {
    for (const name of ["qwen2.5-instruct", "tiny", "llama-3.2-instruct"])
      expect(folded(read(`${name}.jinja`)), name).toBeGreaterThan(0);
  });

  it("leaves a loop alone that reads the messages or the clock", () => {
    const source =
      "{%- for tool in tools %}{{ tool.function.name }}:{{ messages | length }};{%- endfor %}{%- for tool in tools %}{{ strftime_now('%S') }}{%- endfor %}";
    expect(folded(source)).toBe(0);
    const template = new ChatTemplate(source, { bosToken: "", eosToken: "" });
    expect(template.render(conversation.messages.slice(0, 1), otherTools)).toMatch(/^read_graph:1;add:1;/);
    expect(template.render(conversation.messages.slice(0, 3), otherTools)).toMatch(/^read_graph:3;add:3;/);
  });
});
