import { join, resolve } from "node:path";

import { parse } from "yaml";

import { containmentProblem, readContained } from "../bundle/contained.js";
import { BUNDLE_FILES, type PromptTemplateFile } from "../bundle/layout.js";
import type { AgentManifest } from "../bundle/manifest.js";
import { type SampleLine, trainedTools } from "../bundle/sources.js";
import type { ValidationSet } from "../bundle/validation-set.js";
import { toolsetHash } from "../core/canonical.js";
import { badInput } from "../core/errors.js";
import { type McpTool, readToolsFile } from "../core/toolset.js";
import { toFunctionTool } from "../eval/samples.js";
import { loadBackend } from "../models/load.js";
import type { ChatMessage, FunctionTool, ModelBackend } from "../models/types.js";

const DEFAULT_CONTEXT = 4096;

/** What running a bundle needs: its model, the toolset it was trained on and how it was prompted. */
export interface RuntimeBundle {
  dir: string;
  modelPath: string;
  /** agent.yaml's name: the model name `serve` answers to. */
  name: string;
  tools: McpTool[];
  toolsetHash: string;
  /** The tools as the chat template saw them in training. */
  functionTools: FunctionTool[];
  systemPrompt: string | undefined;
  chatTemplate: string;
  contextSize: number;
}

/**
 * Reads the bundle files that running it needs (agent.yaml, tools.json, prompt_template.json,
 * tests/validation.json), each only when it is a regular file inside the bundle: a link out of it,
 * a FIFO or a device is refused. Integrity against SHA256SUMS is `verify-bundle`'s job.
 */
export async function openBundle(dirOption: string): Promise<RuntimeBundle> {
  const dir = resolve(dirOption);
  const modelPath = join(dir, BUNDLE_FILES.model);
  await requireContained(dir, BUNDLE_FILES.model);
  const manifest = await readBundleFile<AgentManifest>(
    dir,
    BUNDLE_FILES.manifest,
    (text) => parse(text, { maxAliasCount: 100 }) as unknown,
  );
  if (typeof manifest?.name !== "string" || manifest.name === "") {
    throw badInput(
      `${join(dir, BUNDLE_FILES.manifest)}: /name is missing`,
      "re-create the bundle with `mcp-forge pack`",
    );
  }
  const template = await readBundleFile<PromptTemplateFile>(dir, BUNDLE_FILES.promptTemplate, JSON.parse);
  if (typeof template?.chatTemplate !== "string") {
    throw badInput(
      `${join(dir, BUNDLE_FILES.promptTemplate)}: /chatTemplate is missing`,
      "re-create the bundle with `mcp-forge pack`",
    );
  }
  await requireContained(dir, BUNDLE_FILES.tools);
  const toolsFile = await readToolsFile(join(dir, BUNDLE_FILES.tools));
  const validation = await readBundleFile<ValidationSet>(dir, BUNDLE_FILES.validationSet, JSON.parse);
  const samples: SampleLine[] = Array.isArray(validation?.prompts) ? validation.prompts.map((p) => p.sample) : [];
  return {
    dir,
    modelPath,
    name: manifest.name,
    tools: toolsFile.tools,
    toolsetHash: toolsetHash(toolsFile.tools),
    functionTools: trainedTools(samples, toolsFile.tools.map(toFunctionTool)),
    systemPrompt: template.systemPrompt ?? undefined,
    chatTemplate: template.chatTemplate,
    contextSize: manifest.runtime?.contextSize ?? DEFAULT_CONTEXT,
  };
}

/** The bundle's model in process, with the bundle's chat template and runtime settings. */
/** `constrained`: decode with a grammar built from the tools' schemas, so every call parses and fits. */
export function loadBundleModel(bundle: RuntimeBundle, options: { constrained?: boolean } = {}): Promise<ModelBackend> {
  return loadBackend(bundle.modelPath, {
    chatTemplate: bundle.chatTemplate,
    contextSize: bundle.contextSize,
    seed: 0,
    constrained: options.constrained === true,
  });
}

/** The conversation as the model was trained: the bundle's system prompt first unless one is given. */
export function withSystemPrompt(bundle: RuntimeBundle, messages: readonly ChatMessage[]): ChatMessage[] {
  if (bundle.systemPrompt === undefined || messages[0]?.role === "system") return [...messages];
  return [{ role: "system", content: bundle.systemPrompt }, ...messages];
}

async function readBundleFile<T>(
  dir: string,
  file: string,
  parseText: (text: string) => unknown,
): Promise<Partial<T> | undefined> {
  const path = join(dir, file);
  await requireContained(dir, file);
  const text = await readContained(dir, file);
  try {
    const value = parseText(text);
    return value && typeof value === "object" ? (value as Partial<T>) : undefined;
  } catch (error) {
    throw badInput(
      `${path}: does not parse (${(error as Error).message.split("\n")[0]})`,
      "re-create the bundle with `mcp-forge pack`",
    );
  }
}

/** Exit 2 unless `file` is a regular file inside the bundle. */
async function requireContained(dir: string, file: string): Promise<void> {
  const problem = await containmentProblem(dir, file);
  if (problem === "missing")
    throw badInput(
      `${join(dir, file)} is missing`,
      "pass the folder `mcp-forge pack --output` wrote; `mcp-forge verify-bundle` checks it",
    );
  if (problem)
    throw badInput(
      `${join(dir, file)}: ${problem}`,
      "re-create the bundle with `mcp-forge pack`; `mcp-forge verify-bundle` checks it",
    );
}
