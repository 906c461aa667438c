import { getLlama, type Llama, LlamaCompletion, type LlamaModel, TokenBias } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { GrammarBuilder } from "../../src/models/grammar.js";
import { ensureTinyModel } from "../helpers/tiny-model.js";

const MARKER = "<tool_call>";
const PROMPT = "<|im_start|>user\nCould you read graph?<|im_end|>\n<|im_start|>assistant\n";

describe("GrammarBuilder.textWithout in llama.cpp", () => {
  let llama: Llama;
  let model: LlamaModel;

  beforeAll(async () => {
    const tiny = await ensureTinyModel();
    llama = await getLlama({ gpu: false });
    model = await llama.loadModel({ modelPath: tiny.gguf });
  });
  afterAll(() => model?.dispose());

  // The call marker pushed far above every other token: without a grammar the model writes it.
  const generate = async (gbnf?: string) => {
    const context = await model.createContext({ contextSize: 512 });
    try {
      const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
      return await completion.generateCompletion(PROMPT, {
        maxTokens: 24,
        temperature: 0,
        tokenBias: TokenBias.for(model).set(MARKER, { logit: 50 }),
        ...(gbnf ? { grammar: await llama.createGrammar({ grammar: gbnf }) } : {}),
      });
    } finally {
      await context.dispose();
    }
  };

  it("never lets the marker through, at the start or after text, while the unconstrained model writes it", async () => {
    expect(await generate()).toContain(MARKER);

    const g = new GrammarBuilder();
    const text = await generate(g.build(g.textWithout("answer", MARKER)));
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toContain(MARKER);

    // What the answer rule used to be: no "<" first, anything after. The marker comes second.
    const old = await generate("root ::= [^<\\x00] [^\\x00]*\n");
    expect(old).toContain(MARKER);
    expect(old.startsWith(MARKER)).toBe(false);
  });
});
