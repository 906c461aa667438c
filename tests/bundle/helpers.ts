import { cp, readFile } from "node:fs/promises";
import { join } from "node:path";

import { writeGguf } from "../../src/bundle/gguf-writer.js";
import { ROOT } from "../support/cli.js";

export const BUNDLE_FIXTURES = join(ROOT, "tests", "bundle", "fixtures");
export const QWEN_TEMPLATE = join(BUNDLE_FIXTURES, "qwen2.5-chat-template.jinja");
/** The chat template of the trainer's `tiny` base model. */
export const TINY_TEMPLATE = join(ROOT, "python", "mcp_forge_trainer", "tiny_template.jinja");
export const MEMORY_SERVER = join(ROOT, "node_modules", "@modelcontextprotocol", "server-memory", "dist", "index.js");

export interface FixtureWorkdir {
  workdir: string;
  toolsPath: string;
  gguf: string;
  toolsetHash: string;
}

/**
 * A work directory as the pipeline leaves it before PACKAGING: tools.json of the reference memory
 * server, train/eval samples for it, and a model.gguf with the Qwen2.5 chat template and the
 * metadata the trainer's export writes.
 */
export async function fixtureWorkdir(
  dir: string,
  options: { chatTemplate?: string; toolsetHash?: string } = {},
): Promise<FixtureWorkdir> {
  const workdir = join(dir, "work");
  await cp(join(BUNDLE_FIXTURES, "workdir"), workdir, { recursive: true });
  const toolsPath = join(workdir, "tools.json");
  const tools = JSON.parse(await readFile(toolsPath, "utf8")) as { toolsetHash: string; tools: unknown[] };
  const gguf = join(workdir, "model.gguf");
  await writeGguf(gguf, {
    "general.architecture": "qwen2",
    "general.name": "tiny",
    "qwen2.context_length": 32768,
    "tokenizer.ggml.model": "gpt2",
    "tokenizer.ggml.tokens": ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
    "tokenizer.ggml.bos_token_id": 0,
    "tokenizer.ggml.eos_token_id": 2,
    "tokenizer.chat_template": options.chatTemplate ?? (await readFile(QWEN_TEMPLATE, "utf8")),
    "mcp_forge.toolset_hash": options.toolsetHash ?? tools.toolsetHash,
    "mcp_forge.tools": JSON.stringify(tools.tools),
    "mcp_forge.base_model": "tiny",
  });
  return { workdir, toolsPath, gguf, toolsetHash: tools.toolsetHash };
}
