import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

import { Template } from "@huggingface/jinja";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { analyzeChatTemplate, renderChatTemplate } from "../../src/bundle/chat-format.js";
import { packBundle } from "../../src/bundle/pack.js";
import type { ChatMessage, FunctionTool } from "../../src/models/types.js";
import { ROOT, tempDir } from "../support/cli.js";
import { fixtureWorkdir, QWEN_TEMPLATE, TINY_TEMPLATE } from "./helpers.js";

/** mcp-forge's tool templates, which models whose own template cannot render tools train with. */
const TOOLS_CHATML = join(ROOT, "python", "mcp_forge_trainer", "tools_chatml.jinja");
const TOOLS_GEMMA = join(ROOT, "python", "mcp_forge_trainer", "tools_gemma.jinja");

const hasGo = spawnSync("go", ["version"]).status === 0;
if (!hasGo) {
  console.warn(
    "skipping the Modelfile TEMPLATE test: `go` is not installed (Debian/Ubuntu: apt-get install -y golang-go)",
  );
}

interface Case {
  messages: ChatMessage[];
  tools: FunctionTool[];
}

/** Ollama hands templates tool-call arguments as a Go map, which ranges in key order. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

const lastIndexOf = (messages: ChatMessage[], role: ChatMessage["role"]) =>
  messages.map((m) => m.role).lastIndexOf(role);

const withSortedArguments = (messages: ChatMessage[]): ChatMessage[] =>
  messages.map((m) =>
    m.tool_calls
      ? {
          ...m,
          tool_calls: m.tool_calls.map((c) => ({
            ...c,
            function: { ...c.function, arguments: sortKeys(c.function.arguments) as Record<string, unknown> },
          })),
        }
      : m,
  );

describe.skipIf(!hasGo).each([
  ["Qwen2.5", QWEN_TEMPLATE],
  ["tiny", TINY_TEMPLATE],
  ["ChatML tool (SmolLM2)", TOOLS_CHATML],
  ["Gemma tool", TOOLS_GEMMA],
])("the Modelfile's TEMPLATE for the %s chat template, under Go's text/template", (_name, templatePath) => {
  let cleanup: () => Promise<void>;
  let modelfile: string;
  let systemPrompt: string;
  let samples: Array<{ scenario: string; tools: FunctionTool[]; messages: ChatMessage[] }>;

  beforeAll(async () => {
    let dir: string;
    ({ dir, cleanup } = await tempDir());
    const fx = await fixtureWorkdir(dir, { chatTemplate: await readFile(templatePath, "utf8") });
    const bundle = join(dir, "bundle");
    await packBundle({ workdir: fx.workdir, model: fx.gguf, tools: fx.toolsPath, output: bundle });
    modelfile = join(bundle, "Modelfile");
    samples = (await readFile(join(fx.workdir, "data", "eval.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as (typeof samples)[number]);
    systemPrompt = samples[0]!.messages[0]!.content;
  });
  afterAll(() => cleanup());

  const renderWithGo = (cases: Case[]): string[] =>
    JSON.parse(
      execFileSync("go", ["run", join(ROOT, "tests", "bundle", "go", "render.go"), modelfile], {
        input: JSON.stringify(cases),
        cwd: ROOT,
      }).toString(),
    ) as string[];

  it("renders conversations with tools, calls and results exactly as the chat template does", async () => {
    const source = await readFile(templatePath, "utf8");
    const template = new Template(source);
    const tokens = { bosToken: "<|endoftext|>", eosToken: "<|im_end|>" };
    // Ollama adds the BOS token itself, so the TEMPLATE leaves out what the chat template renders before the first turn.
    const { prefix } = analyzeChatTemplate(source, tokens, templatePath);
    const calling = samples.filter((s) => s.messages.some((m) => m.tool_calls?.length));
    const [first, second] = calling;
    const cases: Case[] = [];
    for (const s of samples) {
      const messages = withSortedArguments(s.messages);
      const lastUser = lastIndexOf(messages, "user");
      cases.push({ messages: messages.slice(0, lastUser + 1), tools: s.tools });
      const lastTool = lastIndexOf(messages, "tool");
      if (lastTool > 0) cases.push({ messages: messages.slice(0, lastTool + 1), tools: s.tools });
    }
    // No system message: Ollama puts the Modelfile's SYSTEM first, as training did.
    cases.push({ messages: withSortedArguments(first!.messages.slice(1, 4)), tools: first!.tools });
    // Two turns, and no tools passed at all.
    cases.push({
      messages: withSortedArguments([...first!.messages, ...second!.messages.slice(1, 4)]),
      tools: first!.tools,
    });
    cases.push({ messages: [first!.messages[0]!, { role: "user", content: "Hello there" }], tools: [] });
    // A system message later in the conversation.
    cases.push({
      messages: withSortedArguments([
        ...first!.messages,
        { role: "system", content: "Be brief." },
        { role: "user", content: "Again?" },
      ]),
      tools: first!.tools,
    });
    // Parallel calls, their two results in one user turn, with text before the calls.
    cases.push({
      messages: withSortedArguments([
        { role: "user", content: "Look up Ada and Linus." },
        {
          role: "assistant",
          content: "Checking both.",
          tool_calls: [
            { id: "a", type: "function", function: { name: "open_nodes", arguments: { names: ["Ada"] } } },
            {
              id: "b",
              type: "function",
              function: {
                name: "search_nodes",
                arguments: { query: 'Linus "the" <kernel> & co', limit: 2.5, deep: { on: true, tags: [] } },
              },
            },
          ],
        },
        { role: "tool", tool_call_id: "a", name: "open_nodes", content: '{"entities": []}' },
        { role: "tool", tool_call_id: "b", name: "search_nodes", content: "Error: nothing found" },
      ]),
      tools: first!.tools,
    });
    const expected = cases.map((c) => {
      const messages =
        c.messages[0]?.role === "system"
          ? c.messages
          : [{ role: "system" as const, content: systemPrompt }, ...c.messages];
      const text = renderChatTemplate(template, tokens, messages, c.tools, true);
      expect(text.startsWith(prefix)).toBe(true);
      return text.slice(prefix.length);
    });
    // Go's json escapes <, > and & inside argument strings (\u003c…), the chat template does not.
    const actual = renderWithGo(cases).map((text) =>
      text
        .replace(/\\u003c/g, "<")
        .replace(/\\u003e/g, ">")
        .replace(/\\u0026/g, "&"),
    );
    expect(cases.length).toBe(21);
    actual.forEach((text, i) => expect(text, `case ${i}`).toBe(expected[i]));
  });

  it("shows Ollama the tool-call tag, so it parses calls out of the model's output", () => {
    const tag = execFileSync("go", ["run", join(ROOT, "tests", "bundle", "go", "render.go"), "-tag", modelfile], {
      cwd: ROOT,
    })
      .toString()
      .trim();
    expect(tag).toBe("<tool_call>");
  });

  it.runIf(templatePath === QWEN_TEMPLATE)("lists a tool it was not trained on with the schema Ollama passes", () => {
    const extra: FunctionTool = {
      type: "function",
      function: {
        name: "extra_tool",
        description: "Not trained",
        parameters: { type: "object", properties: { q: { type: "string" } }, required: ["q"] },
      },
    };
    const [text] = renderWithGo([
      { messages: [{ role: "user", content: "hi" }], tools: [samples[0]!.tools[0]!, extra] },
    ]);
    expect(text).toContain('\n{"type": "function", "function": {"name": "create_entities", "description": ');
    expect(text).toContain(
      '\n{"type": "function", "function": {"name":"extra_tool","description":"Not trained","parameters":{"type":"object","required":["q"],"properties":{"q":{"type":"string"}}}}}\n</tools>',
    );
    expect(text!.endsWith("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")).toBe(true);
  });

  it.runIf(templatePath === TOOLS_GEMMA)(
    "writes Gemma's turns, the assistant as model, and stops at <end_of_turn>",
    () => {
      const [text] = renderWithGo([
        {
          messages: [
            { role: "system", content: "Be brief." },
            { role: "user", content: "hi" },
          ],
          tools: [],
        },
      ]);
      expect(text).toBe(
        "<start_of_turn>system\nBe brief.<end_of_turn>\n<start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n",
      );
      expect(readFileSync(modelfile, "utf8")).toMatch(/^PARAMETER stop <end_of_turn>$/m);
    },
  );

  it.runIf(templatePath === TINY_TEMPLATE)(
    "renders neither the tools nor a system prompt, as the tiny chat template does",
    () => {
      const extra: FunctionTool = {
        type: "function",
        function: { name: "extra_tool", description: "Not trained", parameters: { type: "object", properties: {} } },
      };
      const [text] = renderWithGo([
        {
          messages: [
            { role: "system", content: "Be brief." },
            { role: "user", content: "hi" },
          ],
          tools: [samples[0]!.tools[0]!, extra],
        },
      ]);
      expect(text).toBe("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
      expect(readFileSync(modelfile, "utf8")).not.toMatch(/^SYSTEM /m);
    },
  );
});
