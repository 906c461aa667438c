import { access } from "node:fs/promises";
import { availableParallelism } from "node:os";

import type { Llama, LlamaContext, LlamaContextSequence, LlamaGrammar, LlamaModel, Token } from "node-llama-cpp";

import { badInput, environmentMissing } from "../core/errors.js";
import { loadLlamaCpp } from "../core/llama-cpp.js";
import { type CallFormat, callFormatForTemplate } from "./parsers/index.js";
import { ChatTemplate } from "./template.js";
import { templateWithTools } from "./tool-template.js";
import type { ChatMessage, FunctionTool, GenerateRequest, Generation, ModelBackend } from "./types.js";

export interface GgufBackendOptions {
  /** Constrain decoding with a grammar built from the tools' schemas. */
  constrained?: boolean;
  seed?: number;
  /** Threads for llama.cpp; 0 or absent: chosen by the model's size (defaultThreads). */
  threads?: number;
  /** Context size in tokens (default: the model's, at most 8192). */
  contextSize?: number;
  maxTokens?: number;
  /** A chat template to use instead of the one in the file (the model's own is the default). */
  chatTemplate?: string;
}

const DEFAULT_MAX_TOKENS = 512;
/** Prompts kept from `prepare` at most (oldest dropped): a loop renders at most two ahead. */
const MAX_RENDERED_AHEAD = 4;
/** Tokens held back at most while they end inside a multi-byte character. */
const MAX_SPLIT_CHARACTER_TOKENS = 4;
let llamaPromise: Promise<Llama> | undefined;

/**
 * Threads for llama.cpp, always a number: 0 ("the hardware's maximum") made a 135M model write
 * one token in 3 s on a 2-core VM, against 10 ms on one thread (docs/benchmarks.md, "llama.cpp
 * threads"). A model under 192 MiB does so little work per token that syncing threads costs more
 * than it saves; larger ones use every core.
 */
function defaultThreads(modelBytes: number): number {
  return modelBytes < 192 * 1024 * 1024 ? 1 : availableParallelism();
}

/** One llama.cpp runtime per process, loaded on first use. */
async function runtime(): Promise<Llama> {
  llamaPromise ??= loadLlamaCpp().then(({ getLlama, LlamaLogLevel }) =>
    getLlama({ gpu: "auto", build: "never", logLevel: LlamaLogLevel.error }),
  );
  try {
    return await llamaPromise;
  } catch (error) {
    llamaPromise = undefined;
    throw environmentMissing(
      `cannot load llama.cpp (node-llama-cpp): ${(error as Error).message}`,
      "run `npm ci` so node-llama-cpp's prebuilt binary for this platform is installed; `mcp-forge doctor` checks it",
    );
  }
}

/** A GGUF model run in process by llama.cpp, prompted with its own chat template. */
export class GgufBackend implements ModelBackend {
  readonly kind = "gguf" as const;
  /** One grammar per tools array (the eval set shares one array across prompts). */
  private readonly grammars = new WeakMap<
    readonly FunctionTool[],
    Promise<{ grammar: LlamaGrammar; maxCallLength: number }>
  >();
  /** Prompts `prepare` rendered, by messages array: the next turn's and the next prompt's. */
  private readonly ahead = new Map<readonly ChatMessage[], { tools: readonly FunctionTool[]; prompt: string }>();

  private constructor(
    readonly id: string,
    readonly constrained: boolean,
    readonly template: ChatTemplate,
    readonly format: CallFormat,
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly sequence: LlamaContextSequence,
    private readonly options: GgufBackendOptions,
  ) {}

  static async load(path: string, options: GgufBackendOptions = {}): Promise<GgufBackend> {
    try {
      await access(path);
    } catch {
      throw badInput(
        `--model ${path}: no such file`,
        "pass the GGUF that `mcp-forge export` wrote (model.gguf in the work directory)",
      );
    }
    const llama = await runtime();
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: path });
    } catch (error) {
      throw badInput(`--model ${path}: llama.cpp cannot load it (${(error as Error).message})`, "is it a GGUF file?");
    }
    const tokens = { bosToken: model.tokens.bosString ?? "", eosToken: model.tokens.eosString ?? "" };
    // A base model whose own template cannot render tools is prompted with the tool template it trains with.
    const source =
      options.chatTemplate ??
      (await templateWithTools(
        model.fileInfo.metadata.tokenizer?.chat_template,
        tokens,
        (text) => model.tokenize(text, true).length === 1,
      ));
    if (!source) {
      await model.dispose();
      throw badInput(
        `${path}: the GGUF has no tokenizer.chat_template`,
        "export the model with its tokenizer so the template is embedded",
      );
    }
    const template = new ChatTemplate(source, tokens);
    const format = callFormatForTemplate(source, `${path} (tokenizer.chat_template)`);
    const contextSize = options.contextSize ?? Math.min(model.trainContextSize, 8192);
    const context = await model.createContext({ contextSize, threads: options.threads || defaultThreads(model.size) });
    return new GgufBackend(
      path,
      Boolean(options.constrained),
      template,
      format,
      llama,
      model,
      context,
      context.getSequence(),
      options,
    );
  }

  async generate(request: GenerateRequest): Promise<Generation> {
    request.signal?.throwIfAborted();
    const started = performance.now();
    let engineMs = 0;
    const ahead = this.ahead.get(request.messages);
    this.ahead.delete(request.messages);
    const prompt =
      ahead?.tools === request.tools ? ahead.prompt : this.template.render(request.messages, request.tools, true);
    const constraint = this.constrained && request.tools.length > 0 ? await this.grammarFor(request.tools) : undefined;

    let mark = performance.now();
    const tokens = this.model.tokenize(prompt, true);
    const input = await this.reuseCachedPrefix(tokens);
    const { LlamaGrammarEvaluationState } = await loadLlamaCpp();
    const grammarState = constraint
      ? new LlamaGrammarEvaluationState({ model: this.model, grammar: constraint.grammar })
      : undefined;
    const budget = request.maxTokens ?? this.options.maxTokens ?? DEFAULT_MAX_TOKENS;
    // Under the grammar a call is at most maxCallLength characters (each token is one at least):
    // room for that lets every call close, within what the context has left.
    const maxTokens = constraint
      ? Math.max(budget, Math.min(constraint.maxCallLength, this.context.contextSize - tokens.length))
      : budget;
    const generated: Token[] = [];
    let firstTokenMs: number | undefined;
    let toolCallMs: number | undefined;
    let text = "";
    let streamed = 0;
    let announced = 0;
    const iterator = this.sequence.evaluate(input, {
      temperature: 0,
      seed: this.options.seed ?? 0,
      ...(grammarState ? { grammarEvaluationState: grammarState } : {}),
    });
    for await (const token of iterator) {
      if (request.signal?.aborted) break;
      firstTokenMs ??= performance.now() - started;
      if (this.model.isEogToken(token)) break;
      const piece = this.model.detokenize([token], false, generated);
      generated.push(token);
      text += piece;
      engineMs += performance.now() - mark;
      if (toolCallMs === undefined && /[>}]/.test(piece) && this.format.hasCompleteCall(text)) {
        toolCallMs = performance.now() - started;
      }
      if (request.onText) streamed = this.streamText(request.onText, generated, streamed, piece);
      if (request.onCall && piece.includes("}")) {
        const closed = this.format.closedCalls(text);
        for (; announced < closed.length; announced++) request.onCall(closed[announced]!, announced);
      }
      mark = performance.now();
      if (generated.length >= maxTokens) break;
    }
    request.signal?.throwIfAborted();
    // Still llama.cpp since the last mark: the wait for a last token or for the end of the
    // generation (under a grammar it often ends by itself, after the call closes), then decoding.
    text = this.model.detokenize(generated);
    engineMs += performance.now() - mark;
    if (request.onText && streamed < generated.length) {
      request.onText(this.model.detokenize(generated.slice(streamed), false, generated.slice(0, streamed)));
    }
    const parsed = this.format.parse(text);
    return {
      raw: text,
      content: parsed.content,
      calls: parsed.calls,
      attemptedCall: parsed.attemptedCall,
      timing: {
        firstTokenMs: firstTokenMs ?? performance.now() - started,
        ...(toolCallMs !== undefined ? { toolCallMs } : {}),
        totalMs: performance.now() - started,
        promptTokens: tokens.length,
        evaluatedPromptTokens: input.length,
        generatedTokens: generated.length,
        engineMs,
      },
    };
  }

  prepare(messages: readonly ChatMessage[], tools: readonly FunctionTool[]): void {
    if (this.ahead.size >= MAX_RENDERED_AHEAD) this.ahead.delete(this.ahead.keys().next().value!);
    this.ahead.set(messages, { tools, prompt: this.template.render(messages, tools, true) });
  }

  countPromptTokens(messages: readonly ChatMessage[], tools: readonly FunctionTool[]): number {
    return this.model.tokenize(this.template.render(messages, tools, true), true).length;
  }

  /**
   * Hands `onText` the text of the tokens not streamed yet and returns how many are streamed,
   * holding them while they end inside a character split over tokens (it decodes to U+FFFD).
   */
  private streamText(onText: (text: string) => void, generated: Token[], from: number, piece: string): number {
    const text =
      from === generated.length - 1
        ? piece
        : this.model.detokenize(generated.slice(from), false, generated.slice(0, from));
    if (text.endsWith("\uFFFD") && generated.length - from < MAX_SPLIT_CHARACTER_TOKENS) return from;
    if (text !== "") onText(text);
    return generated.length;
  }

  /** Keeps the evaluated prefix the prompt shares with the last one (tool schemas, system prompt). */
  private async reuseCachedPrefix(tokens: Token[]): Promise<Token[]> {
    const { firstDifferentIndex } = this.sequence.compareContextTokens(tokens);
    const keep = Math.min(firstDifferentIndex, tokens.length - 1);
    if (keep < this.sequence.nextTokenIndex) {
      await this.sequence.eraseContextTokenRanges([{ start: keep, end: this.sequence.nextTokenIndex }]);
    }
    return tokens.slice(this.sequence.nextTokenIndex);
  }

  private grammarFor(tools: readonly FunctionTool[]): Promise<{ grammar: LlamaGrammar; maxCallLength: number }> {
    let grammar = this.grammars.get(tools);
    if (!grammar) {
      const { gbnf, maxCallLength } = this.format.grammar(tools);
      grammar = this.llama.createGrammar({ grammar: gbnf }).then((g) => ({ grammar: g, maxCallLength }));
      this.grammars.set(tools, grammar);
    }
    return grammar;
  }

  async close(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
  }
}
