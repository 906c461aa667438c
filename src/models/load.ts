import { badInput } from "../core/errors.js";
import { GgufBackend, type GgufBackendOptions } from "./llama-cpp-backend.js";
import { OpenAiBackend, type OpenAiBackendOptions } from "./openai.js";
import type { ModelBackend } from "./types.js";

export type LoadBackendOptions = GgufBackendOptions & OpenAiBackendOptions;

/**
 * The backend a `--model` value names: `openai:<model>` for an OpenAI-compatible endpoint
 * (`baseUrl`, key from the environment), otherwise a path to a GGUF file.
 */
export async function loadBackend(modelSpec: string, options: LoadBackendOptions = {}): Promise<ModelBackend> {
  if (modelSpec.startsWith("openai:")) {
    const name = modelSpec.slice("openai:".length);
    if (!name) throw badInput(`--model ${modelSpec}: no model name after "openai:"`, "e.g. --model openai:gpt-4o-mini");
    if (options.constrained) {
      throw badInput(
        "--constrained needs a GGUF model",
        "constrained decoding builds a llama.cpp grammar; drop it for openai: models",
      );
    }
    return new OpenAiBackend(modelSpec, name, options);
  }
  return GgufBackend.load(modelSpec, options);
}
