import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import OpenAI, { APIConnectionError, APIError } from "openai";
import { writeJsonAtomic } from "../../core/atomic.js";
import { canonicalJson, sha256 } from "../../core/canonical.js";
import { environmentMissing } from "../../core/errors.js";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface LlmClientOptions {
  baseUrl: string;
  model: string;
  apiKey: string;
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
 * request (endpoint, model, messages, parameters), a concurrency limit, and exponential back-off on
 * 429/5xx that honours Retry-After.
 */
export class LlmClient {
  private readonly client: OpenAI;
  private active = 0;
  /** After a 429 or 5xx every request waits until then, not just the one that got it. */
  private pausedUntil = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly counts: LlmTally = { requests: 0, cacheHits: 0, retries: 0, promptTokens: 0, completionTokens: 0 };

  constructor(private readonly options: LlmClientOptions) {
    this.client = new OpenAI({ apiKey: options.apiKey, baseURL: options.baseUrl, maxRetries: 0, timeout: 120_000 });
  }

  tally(): LlmTally {
    const price = PRICES[this.options.model];
    const cost = price ? (this.counts.promptTokens * price[0] + this.counts.completionTokens * price[1]) / 1e6 : undefined;
    return { ...this.counts, ...(cost !== undefined ? { costUsd: cost } : {}) };
  }

  /** The assistant's text for these messages and parameters, from the cache when this exact request was made before. */
  async complete(messages: ChatMessage[], params: Record<string, unknown>, onRequest?: (cached: boolean) => void): Promise<string> {
    const key = sha256(canonicalJson({ endpoint: this.options.baseUrl, model: this.options.model, messages, params }));
    const path = join(this.options.cacheDir, key.slice(0, 2), `${key}.json`);
    const cached = await readFile(path, "utf8").then((t) => JSON.parse(t) as CacheEntry).catch(() => undefined);
    if (cached && typeof cached.content === "string") {
      this.counts.cacheHits++;
      onRequest?.(true);
      return cached.content;
    }
    const entry = await this.limited(() => this.send(messages, params));
    onRequest?.(false);
    this.counts.promptTokens += entry.usage?.prompt_tokens ?? 0;
    this.counts.completionTokens += entry.usage?.completion_tokens ?? 0;
    await mkdir(join(this.options.cacheDir, key.slice(0, 2)), { recursive: true });
    await writeJsonAtomic(path, entry);
    return entry.content;
  }

  private async send(messages: ChatMessage[], params: Record<string, unknown>): Promise<CacheEntry> {
    // variation and attempt make distinct cache keys; they are not API parameters.
    const apiParams = { ...params };
    delete apiParams.variation;
    delete apiParams.attempt;
    const maxRetries = this.options.maxRetries ?? 6;
    for (let retry = 0; ; retry++) {
      const pause = this.pausedUntil - Date.now();
      if (pause > 0) await sleep(pause);
      this.counts.requests++;
      try {
        const response = await this.client.chat.completions.create({
          model: this.options.model,
          messages,
          response_format: { type: "json_object" },
          ...(apiParams as { temperature?: number; seed?: number }),
        });
        return { content: response.choices[0]?.message?.content ?? "", ...(response.usage ? { usage: response.usage } : {}) };
      } catch (error) {
        if (error instanceof APIError && (error.status === 401 || error.status === 403)) {
          throw environmentMissing(`the LLM endpoint ${this.options.baseUrl} refused the API key (HTTP ${error.status})`, "check the key in OPENAI_API_KEY (or the variable named by --llm-api-key-env)");
        }
        const retryable = error instanceof APIConnectionError || (error instanceof APIError && (error.status === 429 || (error.status ?? 0) >= 500));
        if (!retryable || retry >= maxRetries) throw error;
        this.counts.retries++;
        this.pausedUntil = Math.max(this.pausedUntil, Date.now() + retryDelay(error as APIError, retry, this.options.baseDelayMs ?? 1000));
      }
    }
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
