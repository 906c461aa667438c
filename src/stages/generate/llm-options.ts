import { badInput, environmentMissing } from "../../core/errors.js";
import { isLoopbackName } from "../../core/loopback.js";
import { listModels } from "./llm-client.js";
import type { LlmSettings } from "./llm-seeds.js";

const OPENAI_BASE_URL = "https://api.openai.com/v1";
const OPENAI_DEFAULT_MODEL = "gpt-4o";
const OPENAI_KEY_ENV = "OPENAI_API_KEY";

export interface LlmRequest {
  baseUrl?: string | undefined;
  model?: string | undefined;
  /** The variable holding the key; without one, OPENAI_API_KEY for a remote endpoint and no key on loopback. */
  apiKeyEnv?: string | undefined;
  cacheDir: string;
  concurrency: number;
  seedShare?: number | undefined;
  rewordShare?: number | undefined;
}

/**
 * `--llm`'s settings, checked: a key where one is needed (a server on loopback needs none, and is
 * not sent the OpenAI key unless a variable is named), and the model, which for an endpoint other
 * than OpenAI's may be left to the endpoint when it serves exactly one (Ollama, llama-server, vLLM).
 */
export async function llmSettings(request: LlmRequest): Promise<LlmSettings> {
  const baseUrl = request.baseUrl ?? OPENAI_BASE_URL;
  let host: string;
  try {
    host = new URL(baseUrl).hostname;
  } catch {
    throw badInput(
      `--llm-base-url ${baseUrl}: not a URL`,
      "e.g. http://127.0.0.1:11434/v1 (Ollama) or http://127.0.0.1:8080/v1 (llama-server)",
    );
  }
  const local = isLoopbackName(host);
  const keyEnv = request.apiKeyEnv ?? (local ? undefined : OPENAI_KEY_ENV);
  const apiKey = keyEnv ? process.env[keyEnv] : undefined;
  if (keyEnv && !apiKey) {
    throw environmentMissing(
      `--llm needs an API key in $${keyEnv} for ${baseUrl}`,
      `export ${keyEnv}=… (or name another variable with --llm-api-key-env); a server on loopback (Ollama, llama.cpp's llama-server, vLLM) needs none`,
    );
  }
  for (const [flag, share] of [
    ["--llm-seed-share", request.seedShare],
    ["--llm-reword-share", request.rewordShare],
  ] as const) {
    if (share !== undefined && !(share >= 0 && share <= 1))
      throw badInput(`${flag} ${share}: expected a share from 0 to 1`);
  }
  const model =
    request.model ?? (baseUrl === OPENAI_BASE_URL ? OPENAI_DEFAULT_MODEL : await onlyModel(baseUrl, apiKey));
  return {
    baseUrl,
    model,
    ...(apiKey ? { apiKey } : {}),
    cacheDir: request.cacheDir,
    concurrency: request.concurrency,
    ...(request.seedShare !== undefined ? { seedShare: request.seedShare } : {}),
    ...(request.rewordShare !== undefined ? { rewordShare: request.rewordShare } : {}),
  };
}

/** The model an endpoint serves when it lists exactly one. */
async function onlyModel(baseUrl: string, apiKey: string | undefined): Promise<string> {
  const models = await listModels(baseUrl, apiKey);
  if (models.length === 1) return models[0]!;
  if (models.length === 0)
    throw environmentMissing(
      `the LLM endpoint ${baseUrl} lists no models`,
      "load one (e.g. `ollama pull qwen2.5:7b`) or name it with --llm-model",
    );
  const shown = models.slice(0, 12).join(", ") + (models.length > 12 ? ", …" : "");
  throw badInput(`--llm-model: ${baseUrl} serves ${models.length} models (${shown})`, "name one with --llm-model");
}
