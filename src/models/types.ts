/** The chat format of the contract's samples (OpenAI / Hugging Face style). */
export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: Record<string, unknown> };
}

export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
  name?: string;
}

export interface FunctionTool {
  type: "function";
  function: { name: string; description?: string; parameters: Record<string, unknown> };
}

/**
 * A call as the model wrote it. `arguments` is what parsed (anything JSON); `error` says why the
 * text was not a well-formed call (bad JSON, no name, arguments not an object).
 */
export interface RawCall {
  name?: string;
  arguments?: unknown;
  text: string;
  error?: string;
}

export interface GenerationTiming {
  /** From the request to the first generated token. */
  firstTokenMs: number;
  /** From the request to the end of the first complete tool call, when there is one. */
  toolCallMs?: number;
  totalMs: number;
  promptTokens: number;
  /** Prompt tokens actually evaluated (the rest came from the cache). */
  evaluatedPromptTokens: number;
  generatedTokens: number;
  /** Milliseconds spent inside the inference engine (tokenizing, evaluating, sampling). */
  engineMs: number;
}

export interface Generation {
  /** Everything the model wrote, special tokens removed. */
  raw: string;
  /** The text outside tool calls: the answer when there are no calls. */
  content: string;
  calls: RawCall[];
  /** The output tried to call a tool (a call marker or call-shaped JSON), parsed or not. */
  attemptedCall: boolean;
  timing: GenerationTiming;
}

export interface GenerateRequest {
  messages: ChatMessage[];
  tools: FunctionTool[];
  maxTokens?: number;
  /** Receives the output as it is generated, piece by piece (backends that stream: gguf). */
  onText?: (text: string) => void;
  /**
   * Receives each call as soon as its JSON closes, before the generation ends (backends that
   * stream: gguf), so it can start while the model finishes; the final `calls` are what count.
   */
  onCall?: (call: RawCall, index: number) => void;
  /** Stops the generation; `generate` then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** A model to evaluate: a GGUF in process, or an OpenAI-compatible endpoint. */
export interface ModelBackend {
  /** What `--model` said, for reports. */
  readonly id: string;
  readonly kind: "gguf" | "openai";
  /** True when decoding is constrained by a grammar built from the tools' schemas. */
  readonly constrained: boolean;
  generate(request: GenerateRequest): Promise<Generation>;
  /**
   * Renders a prompt ahead, while the model is still busy with the one before; `generate` uses
   * the rendering when it is given the same messages array (which must not change since) and tools.
   */
  prepare?(messages: readonly ChatMessage[], tools: readonly FunctionTool[]): void;
  /** Tokens the rendered prompt takes in the context (backends in process: gguf). */
  countPromptTokens?(messages: readonly ChatMessage[], tools: readonly FunctionTool[]): number;
  close(): Promise<void>;
}
