import { badInput } from "../core/errors.js";
import { loadLlamaCpp } from "../core/llama-cpp.js";

/** What the bundle needs from a GGUF's header: the chat template, special tokens, and our own keys. */
export interface GgufHeader {
  architecture?: string;
  contextLength?: number;
  chatTemplate?: string;
  bosToken: string;
  eosToken: string;
  /** The `mcp_forge.*` keys the trainer's export writes, without the prefix; JSON strings parsed. */
  forge: Record<string, unknown>;
}

export async function readGgufHeader(path: string): Promise<GgufHeader> {
  // Loaded on first use: node-llama-cpp takes half a second to import, which every command would pay.
  const { readGgufFileInfo } = await loadLlamaCpp();
  let metadata: Record<string, unknown>;
  try {
    const info = await readGgufFileInfo(path, { readTensorInfo: false, logWarnings: false, sourceType: "filesystem" });
    metadata = info.metadata as unknown as Record<string, unknown>;
  } catch (error) {
    throw badInput(
      `${path}: not a readable GGUF file (${(error as Error).message})`,
      "pass the model.gguf that `mcp-forge export` wrote",
    );
  }
  const general = record(metadata.general);
  const tokenizer = record(metadata.tokenizer);
  const ggml = record(tokenizer.ggml);
  const tokens = Array.isArray(ggml.tokens) ? (ggml.tokens as unknown[]) : [];
  const tokenText = (id: unknown) =>
    typeof id === "number" && typeof tokens[id] === "string" ? (tokens[id] as string) : "";
  const architecture = typeof general.architecture === "string" ? general.architecture : undefined;
  const contextLength = architecture ? record(metadata[architecture]).context_length : undefined;
  return {
    architecture,
    contextLength: typeof contextLength === "number" ? contextLength : undefined,
    chatTemplate: typeof tokenizer.chat_template === "string" ? tokenizer.chat_template : undefined,
    bosToken: tokenText(ggml.bos_token_id),
    eosToken: tokenText(ggml.eos_token_id),
    forge: flatten(record(metadata.mcp_forge)),
  };
}

/** node-llama-cpp nests dotted keys; ours are flattened back to `a.b` and JSON values parsed. */
function flatten(value: Record<string, unknown>, prefix = ""): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (v && typeof v === "object" && !Array.isArray(v))
      Object.assign(out, flatten(v as Record<string, unknown>, name));
    else out[name] = typeof v === "bigint" ? Number(v) : parseJsonString(v);
  }
  return out;
}

function parseJsonString(value: unknown): unknown {
  if (typeof value !== "string" || !/^\s*[[{]/.test(value)) return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function record(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
