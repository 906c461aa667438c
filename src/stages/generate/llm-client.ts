import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";

import OpenAI, { APIConnectionError, APIError } from "openai";

import { writeJsonAtomic } from "../../core/atomic.js";
import { canonicalJson, sha256 } from "../../core/canonical.js";
import { environmentMissing } from "../../core/errors.js";
import { printable } from "../../core/untrusted-text.js";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface LlmClientOptions {
  baseUrl: string;
  model: string;
  /** None for a server that needs none (a local one on loopback): then no Authorization header is sent. */
  apiKey?: string;
  cacheDir: string;
  concurrency: number;
  /** Retries of one request on 429, 5xx and connection errors. */
  maxRetries?: number;
  /** Back-off before the first retry when the server sends no Retry-After, ms; doubles each time. */
  baseDelayMs?: number;
}

export interface LlmTally {
  requests: number;
  cacheHits: number;
  retries: number;
  promptTokens: number;
  completionTokens: number;
  /** Estimated from list prices for known models; undefined otherwise. */
  costUsd?: number;
  /** How the server was asked for JSON at the end: the first way it did not refuse. */
  structuredOutput: StructuredOutput;
}

/**
 * How the server is asked for JSON, best first: response_format json_schema (the answer's schema,
 * the tool's arguments included, enforced by OpenAI, vLLM, llama.cpp's server, Ollama), json_object
 * (JSON mode), then plain text from which the JSON is read. A server that refuses one way is asked
 * the next way from then on.
 */
export const STRUCTURED_OUTPUT = ["json_schema", "json_object", "text"] as const;
export type StructuredOutput = (typeof STRUCTURED_OUTPUT)[number];

/** The JSON Schema an answer must match; `name` is response_format's schema name ([A-Za-z0-9_-], at most 64). */
export interface AnswerSchema {
  name: string;
  schema: Record<string, unknown>;
}

/** USD per million tokens (input, output), from OpenAI's published prices. */
const PRICES: Record<string, [number, number]> = {
  "gpt-4o": [2.5, 10],
  "gpt-4o-mini": [0.15, 0.6],
  "gpt-4.1": [2, 8],
  "gpt-4.1-mini": [0.4, 1.6],
  "gpt-4.1-nano": [0.1, 0.4],
};

interface CacheEntry {
  content: string;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

/**
 * Chat completions against any OpenAI-compatible endpoint, with an on-disk cache keyed by the whole
 * request (endpoint, model, messages, parameters; not the response format, which only says how the
 * same answer is asked for), a concurrency limit, and exponential back-off on 429/5xx that honours
 * Retry-After.
 */
export class LlmClient {
  private readonly client: OpenAI;
  private active = 0;
  /** After a 429 or 5xx every request waits until then, not just the one that got it. */
  private pausedUntil = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly counts = { requests: 0, cacheHits: 0, retries: 0, promptTokens: 0, completionTokens: 0 };
  private structured: StructuredOutput = "json_schema";

  constructor(private readonly options: LlmClientOptions) {
    this.client = openAiClient(options.baseUrl, options.apiKey);
  }

  tally(): LlmTally {
    const price = PRICES[this.options.model];
    const cost = price
      ? (this.counts.promptTokens * price[0] + this.counts.completionTokens * price[1]) / 1e6
      : undefined;
    return { ...this.counts, ...(cost !== undefined ? { costUsd: cost } : {}), structuredOutput: this.structured };
  }

  /** The assistant's text for these messages and parameters, from the cache when this exact request was made before. */
  async complete(
    messages: ChatMessage[],
    params: Record<string, unknown>,
    schema: AnswerSchema,
    onRequest?: (cached: boolean) => void,
  ): Promise<string> {
    const key = sha256(canonicalJson({ endpoint: this.options.baseUrl, model: this.options.model, messages, params }));
    const path = join(this.options.cacheDir, key.slice(0, 2), `${key}.json`);
    const cached = await readFile(path, "utf8")
      .then((t) => JSON.parse(t) as CacheEntry)
      .catch(() => undefined);
    if (cached && typeof cached.content === "string") {
      this.counts.cacheHits++;
      onRequest?.(true);
      return cached.content;
    }
    const entry = await this.limited(() => this.send(messages, params, schema));
    onRequest?.(false);
    this.counts.promptTokens += entry.usage?.prompt_tokens ?? 0;
    this.counts.completionTokens += entry.usage?.completion_tokens ?? 0;
    await mkdir(join(this.options.cacheDir, key.slice(0, 2)), { recursive: true });
    await writeJsonAtomic(path, entry);
    return entry.content;
  }

  private async send(
    messages: ChatMessage[],
    params: Record<string, unknown>,
    schema: AnswerSchema,
  ): Promise<CacheEntry> {
    // variation and attempt make distinct cache keys; they are not API parameters.
    const apiParams = { ...params };
    delete apiParams.variation;
    delete apiParams.attempt;
    const maxRetries = this.options.maxRetries ?? 6;
    for (let retry = 0; ;) {
      const pause = this.pausedUntil - Date.now();
      if (pause > 0) await sleep(pause);
      this.counts.requests++;
      const structured = this.structured;
      try {
        const response = await this.client.chat.completions.create({
          model: this.options.model,
          messages,
          ...responseFormat(structured, schema),
          ...(apiParams as { temperature?: number; seed?: number }),
        });
        return {
          content: response.choices[0]?.message?.content ?? "",
          ...(response.usage ? { usage: response.usage } : {}),
        };
      } catch (error) {
        if (error instanceof APIError && (error.status === 401 || error.status === 403)) {
          throw environmentMissing(
            `the LLM endpoint ${this.options.baseUrl} refused ${this.options.apiKey ? "the API key" : "a request without an API key"} (HTTP ${error.status})`,
            "put the key in OPENAI_API_KEY (or the variable named by --llm-api-key-env)",
          );
        }
        if (structured !== "text" && refusesFormat(error)) {
          // Requests in flight with the same way may be refused too: step down once.
          if (this.structured === structured)
            this.structured = STRUCTURED_OUTPUT[STRUCTURED_OUTPUT.indexOf(structured) + 1]!;
          continue;
        }
        const retryable =
          error instanceof APIConnectionError ||
          (error instanceof APIError && (error.status === 429 || (error.status ?? 0) >= 500));
        if (!retryable || retry >= maxRetries) throw this.failure(error);
        this.counts.retries++;
        this.pausedUntil = Math.max(
          this.pausedUntil,
          Date.now() + retryDelay(error as APIError, retry, this.options.baseDelayMs ?? 1000),
        );
        retry++;
      }
    }
  }

  /** A failure the user can act on (exit 3), with the server's own words kept short and printable. */
  private failure(error: unknown): Error {
    const where = `the LLM endpoint ${this.options.baseUrl}`;
    if (error instanceof APIConnectionError) {
      return environmentMissing(
        `cannot reach ${where} (${shortText(error.message)})`,
        "start the server (e.g. `ollama serve`, `llama-server -m model.gguf`, `vllm serve <model>`) or fix --llm-base-url",
      );
    }
    if (error instanceof APIError) {
      return environmentMissing(
        `${where} answered HTTP ${error.status ?? "?"} for model ${this.options.model}: ${shortText(error.message)}`,
        "check --llm-model and --llm-base-url",
      );
    }
    return error as Error;
  }

  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.options.concurrency) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/**
 * An OpenAI SDK client for the endpoint. Without a key (a local server) it sends no Authorization
 * header, and no organisation or project read from the environment either.
 */
function openAiClient(baseUrl: string, apiKey: string | undefined): OpenAI {
  const common = { baseURL: baseUrl, maxRetries: 0, timeout: 120_000 };
  if (apiKey) return new OpenAI({ ...common, apiKey });
  return new OpenAI({
    ...common,
    apiKey: "unused",
    organization: null,
    project: null,
    defaultHeaders: { Authorization: null },
  });
}

/** The models the endpoint lists (GET /models): how a local server names the one it serves. */
export async function listModels(baseUrl: string, apiKey: string | undefined): Promise<string[]> {
  const models: string[] = [];
  try {
    for await (const model of openAiClient(baseUrl, apiKey).models.list()) models.push(model.id);
  } catch (error) {
    const reason =
      error instanceof APIError && !(error instanceof APIConnectionError)
        ? `HTTP ${error.status ?? "?"}: ${shortText(error.message)}`
        : shortText((error as Error).message);
    throw environmentMissing(
      `cannot list the models of the LLM endpoint ${baseUrl} (${reason})`,
      "start the server or fix --llm-base-url; or name the model with --llm-model",
    );
  }
  return models;
}

function responseFormat(
  structured: StructuredOutput,
  schema: AnswerSchema,
): { response_format?: OpenAI.ResponseFormatJSONSchema | OpenAI.ResponseFormatJSONObject } {
  if (structured === "json_schema")
    return {
      response_format: {
        type: "json_schema",
        json_schema: { name: schema.name, schema: schema.schema, strict: false },
      },
    };
  if (structured === "json_object") return { response_format: { type: "json_object" } };
  return {};
}

/** A 400 or 422 about the response format: the server does not take this way of asking for JSON. */
function refusesFormat(error: unknown): boolean {
  if (!(error instanceof APIError) || (error.status !== 400 && error.status !== 422)) return false;
  return (
    error.param === "response_format" ||
    /response.?format|json.?schema|json.?object|grammar|guided/i.test(error.message)
  );
}

/**
 * The JSON value in a reply: the whole text, else a fenced ```json block, else the outermost
 * braces (a server without JSON mode wraps it in prose). Undefined when there is none.
 */
export function parseJsonReply(text: string): unknown {
  const fenced = /```(?:json)?\s*\n([\s\S]*?)```/i.exec(text)?.[1];
  const braces = text.indexOf("{") >= 0 ? text.slice(text.indexOf("{"), text.lastIndexOf("}") + 1) : undefined;
  for (const candidate of [text, fenced, braces]) {
    if (candidate === undefined) continue;
    try {
      return JSON.parse(candidate);
    } catch {
      // Try the next reading.
    }
  }
  return undefined;
}

const shortText = (text: string) => printable(text).replace(/\s+/g, " ").trim().slice(0, 300);

/** Retry-After (seconds or an HTTP date) or retry-after-ms when sent; exponential back-off otherwise. */
export function retryDelay(error: { headers?: Headers | undefined }, retry: number, baseMs: number): number {
  const headers = error.headers;
  const ms = Number(headers?.get("retry-after-ms"));
  if (Number.isFinite(ms) && ms > 0) return Math.min(ms, 120_000);
  const after = headers?.get("retry-after");
  if (after) {
    const seconds = Number(after);
    if (Number.isFinite(seconds)) return Math.min(seconds * 1000, 120_000);
    const date = Date.parse(after);
    if (Number.isFinite(date)) return Math.min(Math.max(0, date - Date.now()), 120_000);
  }
  return Math.min(baseMs * 2 ** retry, 60_000);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
