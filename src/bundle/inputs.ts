import { stat } from "node:fs/promises";
import { join } from "node:path";

import { badInput } from "../core/errors.js";
import { readToolsFile, type ToolsFile } from "../core/toolset.js";
import { analyzeChatTemplate, type HermesFormat } from "./chat-format.js";
import { sha256File } from "./checksums.js";
import { type GgufHeader, readGgufHeader } from "./gguf.js";
import { pick, readSamples, type SampleLine, stateIfAny, trainingSystemPrompt } from "./sources.js";

/** Everything pack reads, checked: the toolset, the model, its chat format, the samples, the state. */
export interface PackInputs {
  tools: ToolsFile;
  gguf: GgufHeader & { chatTemplate: string };
  format: HermesFormat;
  modelSha: string;
  modelSize: number;
  evalSamples: SampleLine[];
  trainSamples?: SampleLine[];
  systemPrompt?: string;
  /** The TRAINING and EXPORTING stages' summaries in state.json, when the work directory has one. */
  training?: Record<string, unknown>;
  exporting?: Record<string, unknown>;
}

export async function readPackInputs(paths: { workdir: string; model: string; tools: string }): Promise<PackInputs> {
  const tools = await readToolsFile(paths.tools);
  const gguf = await readGgufHeader(paths.model);
  const forgeHash = pick([gguf.forge], ["toolset_hash", "toolsetHash"]);
  if (forgeHash !== undefined && forgeHash !== tools.toolsetHash) {
    throw badInput(
      `${paths.model} was trained on toolset ${String(forgeHash)}, but ${paths.tools} has ${tools.toolsetHash}`,
      "pack the tools.json the model was trained on, or retrain on the new tools",
    );
  }
  const chatTemplate = gguf.chatTemplate;
  if (!chatTemplate) {
    throw badInput(
      `${paths.model}: the GGUF has no tokenizer.chat_template`,
      "export the model with `mcp-forge export`, which keeps the base model's chat template",
    );
  }
  const format = analyzeChatTemplate(chatTemplate, gguf, `${paths.model} (tokenizer.chat_template)`);
  const evalPath = join(paths.workdir, "data", "eval.jsonl");
  const evalSamples = await readSamples(evalPath);
  if (!evalSamples) {
    throw badInput(
      `${evalPath}: missing; the bundle's tests/validation.json is made from the held-out samples`,
      "run `mcp-forge generate` first",
    );
  }
  const trainSamples = await readSamples(join(paths.workdir, "data", "train.jsonl"));
  const state = await stateIfAny(paths.workdir);
  return {
    tools,
    gguf: { ...gguf, chatTemplate },
    format,
    modelSha: await sha256File(paths.model),
    modelSize: (await stat(paths.model)).size,
    evalSamples,
    ...(trainSamples ? { trainSamples } : {}),
    systemPrompt: trainingSystemPrompt(trainSamples ?? evalSamples),
    training: state?.stages.TRAINING?.summary,
    exporting: state?.stages.EXPORTING?.summary,
  };
}
