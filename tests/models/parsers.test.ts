import { readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import {
  type CallFormat,
  callFormatForTemplate,
  hermesFormat,
  llama3JsonFormat,
} from "../../src/models/parsers/index.js";
import { ChatTemplate } from "../../src/models/template.js";
import type { ChatMessage, FunctionTool } from "../../src/models/types.js";

const dir = join(import.meta.dirname, "..", "fixtures", "templates");
const read = (name: string) => readFileSync(join(dir, name), "utf8");
/** mcp-forge's tool templates, for models whose own template cannot render tools (SmolLM2, Gemma). */
const TRAINER = join(import.meta.dirname, "..", "..", "python", "mcp_forge_trainer");
const conversation = JSON.parse(read("conversation.json")) as {
  tools: FunctionTool[];
  messages: ChatMessage[];
  bos_token: string;
  date_string: string;
};

/*
 * The *.full.txt / *.prompt.txt files are renderings made by Hugging Face transformers
 * (render_jinja_template, as apply_chat_template does in training) of conversation.json; for
 * the tool templates, python/tests/test_chat_templates.py checks them against transformers.
 */
const TEMPLATES = [
  { name: "qwen2.5-instruct", format: "hermes", end: "<|im_end|>" },
  { name: "llama-3.2-instruct", format: "llama3-json", end: "<|eot_id|>" },
  { name: "tiny", format: "hermes", end: "<|im_end|>" },
  { name: "tools-chatml", format: "hermes", end: "<|im_end|>", source: join(TRAINER, "tools_chatml.jinja") },
  { name: "tools-gemma", format: "hermes", end: "<end_of_turn>", source: join(TRAINER, "tools_gemma.jinja") },
] as const;

/** Cuts text into pieces of 1–3 characters, the way a tokenizer splits a call over several tokens. */
function tokens(text: string): string[] {
  const out: string[] = [];
  for (let i = 0, n = 0; i < text.length; n++) {
    const size = 1 + (n % 3);
    out.push(text.slice(i, i + size));
    i += size;
  }
  return out;
}

describe.each(TEMPLATES)("$name template", (entry) => {
  const { name, format, end } = entry;
  const source = "source" in entry ? readFileSync(entry.source, "utf8") : read(`${name}.jinja`);
  const template = new ChatTemplate(source, { bosToken: conversation.bos_token, eosToken: "" });
  const extra = { date_string: conversation.date_string };
  const full = template.render(conversation.messages, conversation.tools, false, extra);
  const prompt = template.render(conversation.messages.slice(0, 2), conversation.tools, true, extra);
  const callFormat: CallFormat = callFormatForTemplate(source, name);
  // What the model writes for the tool-call turn: the rendering after the generation prompt, up to the end token.
  const assistantTurn = full.slice(prompt.length, full.indexOf(end, prompt.length));

  it("renders exactly as transformers' apply_chat_template", () => {
    expect(full).toBe(read(`${name}.full.txt`));
    expect(prompt).toBe(read(`${name}.prompt.txt`));
    expect(full.startsWith(prompt)).toBe(true);
  });

  it(`is recognised as the ${format} call format`, () => {
    expect(callFormat.name).toBe(format);
  });

  it("parses the rendered tool call back into the call", () => {
    const parsed = callFormat.parse(assistantTurn);
    expect(parsed.attemptedCall).toBe(true);
    expect(parsed.content).toBe("");
    expect(parsed.calls).toEqual([
      { text: expect.any(String), name: "get_weather", arguments: { city: "Zürich", days: 2 } },
    ]);
  });

  it("sees the call complete only once its last token has arrived", () => {
    const pieces = tokens(assistantTurn);
    let text = "";
    const complete = pieces.map((p) => callFormat.hasCompleteCall((text += p)));
    expect(complete.at(-1)).toBe(true);
    expect(complete.slice(0, -1).every((c) => !c)).toBe(true);
    expect(callFormat.parse(text).calls[0]?.name).toBe("get_weather");
  });

  it("hands out the call as soon as its JSON closes, before the closing markup", () => {
    const pieces = tokens(assistantTurn);
    let text = "";
    const closedAt = pieces.map((p) => callFormat.closedCalls((text += p)).length).indexOf(1);
    const jsonEnd = assistantTurn.lastIndexOf("}") + 1;
    expect(pieces.slice(0, closedAt + 1).join("").length).toBeGreaterThanOrEqual(jsonEnd);
    expect(pieces.slice(0, closedAt).join("").length).toBeLessThan(jsonEnd);
    expect(callFormat.closedCalls(text)).toEqual(callFormat.parse(text).calls);
  });

  it("reads the final answer turn as text without a call", () => {
    const answer = "It is 3 °C and grey in Zürich.";
    expect(callFormat.parse(answer)).toEqual({ content: answer, calls: [], attemptedCall: false });
  });
});

describe("hermes calls", () => {
  const call = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>';

  it("keeps text around a call as content and finds several calls", () => {
    const parsed = hermesFormat.parse(`Let me check.\n${call}\n${call.replace("Oslo", "Rome")}\nOne moment.`);
    expect(parsed.content).toBe("Let me check.\n\n\nOne moment.");
    expect(parsed.calls.map((c) => c.arguments)).toEqual([{ city: "Oslo" }, { city: "Rome" }]);
  });

  it("does not end a call at a </tool_call> inside a string value", () => {
    const text = '<tool_call>\n{"name": "note", "arguments": {"text": "a </tool_call> b"}}\n</tool_call>';
    expect(hermesFormat.parse(text).calls).toEqual([
      { text: expect.any(String), name: "note", arguments: { text: "a </tool_call> b" } },
    ]);
    expect(hermesFormat.hasCompleteCall(text.slice(0, text.indexOf('b"')))).toBe(false);
  });

  it("hands out closed calls one by one, and none while a string value is still open", () => {
    const two = `${call}\n${call.replace("Oslo", "Rome")}`;
    const second = two.lastIndexOf("<tool_call>");
    expect(hermesFormat.closedCalls(two.slice(0, second + 30)).map((c) => c.arguments)).toEqual([{ city: "Oslo" }]);
    expect(hermesFormat.closedCalls(two).map((c) => c.arguments)).toEqual([{ city: "Oslo" }, { city: "Rome" }]);
    expect(hermesFormat.closedCalls('<tool_call>\n{"name": "note", "arguments": {"text": "a }')).toEqual([]);
  });

  it("accepts a call cut off before </tool_call> when its JSON is whole", () => {
    expect(hermesFormat.parse(call.replace("\n</tool_call>", "")).calls[0]).toMatchObject({
      name: "get_weather",
      arguments: { city: "Oslo" },
    });
  });

  it("reports malformed JSON, a missing name and string arguments as unparseable calls", () => {
    const bad = [
      '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}\n</tool_call>',
      '<tool_call>\n{"arguments": {"city": "Oslo"}}\n</tool_call>',
      '<tool_call>\n{"name": "get_weather", "arguments": "{\\"city\\": \\"Oslo\\"}"}\n</tool_call>',
    ];
    for (const text of bad) {
      const parsed = hermesFormat.parse(text);
      expect(parsed.attemptedCall).toBe(true);
      expect(parsed.calls[0]?.error).toBeTruthy();
    }
  });
});

describe("llama 3 JSON calls", () => {
  it("accepts <|python_tag|> and several calls separated by ;", () => {
    const parsed = llama3JsonFormat.parse(
      '<|python_tag|>{"name": "a", "parameters": {"x": ";"}}; {"name": "b", "parameters": {}}',
    );
    expect(parsed.calls.map((c) => [c.name, c.arguments])).toEqual([
      ["a", { x: ";" }],
      ["b", {}],
    ]);
  });

  it("hands out each call once its JSON closes, not the one still being written", () => {
    const text = '<|python_tag|>{"name": "a", "parameters": {"x": ";"}}; {"name": "b", "parameters": {';
    expect(llama3JsonFormat.closedCalls(text).map((c) => [c.name, c.arguments])).toEqual([["a", { x: ";" }]]);
    expect(llama3JsonFormat.closedCalls(`${text}}}`).map((c) => c.name)).toEqual(["a", "b"]);
  });

  it("reports a truncated JSON call as unparseable", () => {
    const parsed = llama3JsonFormat.parse('{"name": "a", "parameters": {"x": 1}');
    expect(parsed.attemptedCall).toBe(true);
    expect(parsed.calls[0]?.error).toMatch(/JSON/);
  });
});
