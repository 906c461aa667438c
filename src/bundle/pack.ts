import { randomBytes } from "node:crypto";
import { copyFile, link, mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../core/atomic.js";
import { sha256 } from "../core/canonical.js";
import { badInput } from "../core/errors.js";
import { onShutdown } from "../core/shutdown.js";
import { finishStage, startStage } from "../core/state.js";
import { readToolsFile, type ToolsFile } from "../core/toolset.js";
import { VERSION } from "../core/version.js";
import { toFunctionTool } from "../eval/samples.js";
import { checksumsText, sha256File } from "./checksums.js";
import { readGgufHeader, type GgufHeader } from "./gguf.js";
import { analyzeChatTemplate, IM_END, TOOL_CALL_CLOSE, TOOL_CALL_OPEN, TOOL_RESPONSE_CLOSE, TOOL_RESPONSE_OPEN, type HermesFormat } from "./hermes.js";
import { BUNDLE_FILES, type PromptTemplateFile } from "./layout.js";
import { manifestYaml, type AgentManifest } from "./manifest.js";
import { buildModelfile } from "./modelfile.js";
import { bundleReadme } from "./readme.js";
import { pick, qualitySummary, readSamples, scenarioCounts, stateIfAny, trainedTools, trainingSystemPrompt } from "./sources.js";
import { buildValidationSet } from "./validation-set.js";

export interface PackOptions {
  workdir: string;
  model: string;
  tools: string;
  output: string;
  name?: string;
  version?: string;
  info?: (text: string) => void;
}

export interface PackResult {
  output: string;
  manifest: AgentManifest;
  files: string[];
}

const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const DEFAULT_CONTEXT = 4096;

/**
 * The PACKAGING stage: writes the agent bundle (CONTRACT.md §5) into a fresh folder beside
 * `output` and renames it into place at the end, so `output` is always a whole bundle or absent.
 */
export async function packBundle(options: PackOptions): Promise<PackResult> {
  const info = options.info ?? (() => undefined);
  const tools = await readToolsFile(options.tools);
  const gguf = await readGgufHeader(options.model);
  const forgeHash = pick([gguf.forge], ["toolset_hash", "toolsetHash"]);
  if (forgeHash !== undefined && forgeHash !== tools.toolsetHash) {
    throw badInput(
      `${options.model} was trained on toolset ${String(forgeHash)}, but ${options.tools} has ${tools.toolsetHash}`,
      "pack the tools.json the model was trained on, or retrain on the new tools",
    );
  }
  if (!gguf.chatTemplate) throw badInput(`${options.model}: the GGUF has no tokenizer.chat_template`, "export the model with `mcp-forge export`, which keeps the base model's chat template");
  const format = analyzeChatTemplate(gguf.chatTemplate, gguf, `${options.model} (tokenizer.chat_template)`);

  const evalPath = join(options.workdir, "data", "eval.jsonl");
  const evalSamples = await readSamples(evalPath);
  if (!evalSamples) throw badInput(`${evalPath}: missing; the bundle's tests/validation.json is made from the held-out samples`, "run `mcp-forge generate` first");
  const trainSamples = await readSamples(join(options.workdir, "data", "train.jsonl"));
  const systemPrompt = trainingSystemPrompt(trainSamples ?? evalSamples);
  if (!systemPrompt) info("warning: the samples have no system prompt; the Modelfile gets no SYSTEM");

  const state = await stateIfAny(options.workdir);
  const training = state?.stages.TRAINING?.summary;
  const exporting = state?.stages.EXPORTING?.summary;
  const name = options.name ?? defaultName(tools);
  if (!NAME_PATTERN.test(name)) {
    throw badInput(`--name ${JSON.stringify(name)}: expected lower-case letters, digits, ".", "_" or "-" (at most 64, starting with a letter or digit)`, "e.g. --name weather-agent");
  }
  const version = options.version ?? "0.1.0";
  if (!/^[\w.+-]{1,64}$/.test(version)) throw badInput(`--version ${JSON.stringify(version)}: expected a version like 1.0.0`);

  const modelSha = await sha256File(options.model);
  const modelSize = (await stat(options.model)).size;
  const recorded = await stat(options.workdir).then(() => true, () => false);
  if (recorded) await startStage(options.workdir, "PACKAGING", { model: `sha256:${modelSha}`, tools: tools.toolsetHash });

  const stop = [...new Set([IM_END, gguf.eosToken].filter((t) => t !== ""))];
  const trainedContext = pick([gguf.forge, training], ["max_seq_length", "training.max_seq_length", "maxSeqLength"]);
  const contextSize = typeof trainedContext === "number" ? trainedContext : Math.min(gguf.contextLength ?? DEFAULT_CONTEXT, DEFAULT_CONTEXT);
  const validationSet = buildValidationSet(evalSamples, "data/eval.jsonl", tools.toolsetHash);
  const manifest: AgentManifest = {
    schemaVersion: 1,
    name,
    version,
    description: `Calls the tools of the MCP server ${tools.server.name} ${tools.server.version}`,
    createdAt: new Date().toISOString(),
    createdBy: `mcp-forge ${VERSION}`,
    server: { name: tools.server.name, version: tools.server.version },
    baseModel: {
      id: text(pick([gguf.forge, training], ["base_model", "training.base_model", "baseModel", "model"])),
      revision: text(pick([gguf.forge, training], ["base_model_revision", "training.revision", "revision"])),
    },
    model: {
      file: BUNDLE_FILES.model,
      sha256: modelSha,
      sizeBytes: modelSize,
      architecture: gguf.architecture ?? null,
      quantization: text(pick([gguf.forge, exporting], ["quantization", "export.quantization", "quant"])),
    },
    training: {
      configHash: hashOrNull(pick([gguf.forge, training], ["training_config_hash", "training.config_hash", "configHash"])),
      profile: text(pick([gguf.forge, training], ["training.profile", "profile"])),
    },
    toolset: { hash: tools.toolsetHash, file: BUNDLE_FILES.tools, tools: tools.tools.map((t) => t.name) },
    dataset: {
      trainSamples: trainSamples?.length ?? null,
      evalSamples: evalSamples.length,
      scenarios: scenarioCounts(trainSamples ?? []),
      validationPrompts: validationSet.prompts.length,
    },
    validation: await qualitySummary(options.workdir, "reports/validation.json"),
    benchmark: await qualitySummary(options.workdir, "reports/benchmark.json"),
    runtime: { temperature: 0, contextSize, stop, chatFormat: "hermes" },
    files: {
      model: BUNDLE_FILES.model,
      tools: BUNDLE_FILES.tools,
      promptTemplate: BUNDLE_FILES.promptTemplate,
      modelfile: BUNDLE_FILES.modelfile,
      readme: BUNDLE_FILES.readme,
      validationSet: BUNDLE_FILES.validationSet,
      checksums: BUNDLE_FILES.checksums,
    },
  };

  const output = options.output;
  await mkdir(dirname(output), { recursive: true });
  const staging = join(dirname(output), `.${basename(output)}.${randomBytes(6).toString("hex")}.tmp`);
  const stopOnSignal = onShutdown(async () => {
    await rm(staging, { recursive: true, force: true });
    if (recorded) await finishStage(options.workdir, "PACKAGING", { status: "interrupted", outputs: {}, summary: {} });
  });
  try {
    await mkdir(staging);
    await placeModel(options.model, join(staging, BUNDLE_FILES.model));
    await writeJsonAtomic(join(staging, BUNDLE_FILES.tools), tools);
    await writeJsonAtomic(join(staging, BUNDLE_FILES.validationSet), validationSet);
    await writeJsonAtomic(join(staging, BUNDLE_FILES.promptTemplate), promptTemplate(gguf, format, systemPrompt, stop));
    await writeFileAtomic(
      join(staging, BUNDLE_FILES.modelfile),
      buildModelfile({
        format,
        tools: trainedTools([...(trainSamples ?? []), ...evalSamples], tools.tools.map(toFunctionTool)),
        systemPrompt,
        stop,
        temperature: 0,
        contextSize,
      }),
    );
    await writeFileAtomic(join(staging, BUNDLE_FILES.readme), bundleReadme(manifest, tools.tools));
    await writeFileAtomic(join(staging, BUNDLE_FILES.manifest), await manifestYaml(manifest));
    const sums = await checksumsText(staging, new Map([[BUNDLE_FILES.model, modelSha]]));
    await writeFileAtomic(join(staging, BUNDLE_FILES.checksums), sums);
    await replaceFolder(staging, output);
    const files = sums.trim().split("\n").map((l) => l.slice(66)).concat(BUNDLE_FILES.checksums);
    info(`packed ${files.length} files into ${output}`);
    if (recorded) {
      await finishStage(options.workdir, "PACKAGING", {
        outputs: { [relative(options.workdir, output) || output]: `sha256:${sha256(sums)}` },
        summary: { bundle: output, name, version, toolsetHash: tools.toolsetHash, validation: manifest.validation.status, benchmark: manifest.benchmark.status },
      });
    }
    return { output, manifest, files };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    if (recorded) await finishStage(options.workdir, "PACKAGING", { status: "failed", outputs: {}, summary: {}, error: (error as Error).message });
    throw error;
  } finally {
    stopOnSignal();
  }
}

function text(value: string | number | undefined): string | null {
  return value === undefined ? null : String(value);
}

function hashOrNull(value: string | number | undefined): string | null {
  return typeof value === "string" && /^sha256:[0-9a-f]{64}$/.test(value) ? value : null;
}

function defaultName(tools: ToolsFile): string {
  const slug = tools.server.name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 50);
  return `${slug || "mcp"}-agent`;
}

function promptTemplate(gguf: GgufHeader, format: HermesFormat, systemPrompt: string | undefined, stop: string[]): PromptTemplateFile {
  return {
    format: "hermes",
    chatTemplate: gguf.chatTemplate!,
    bosToken: gguf.bosToken,
    eosToken: gguf.eosToken,
    systemPrompt: systemPrompt ?? null,
    stop,
    toolCall: { open: TOOL_CALL_OPEN, close: TOOL_CALL_CLOSE, body: '{"name": <tool name>, "arguments": <arguments JSON object>}', role: "assistant" },
    toolResponse: { open: TOOL_RESPONSE_OPEN, close: TOOL_RESPONSE_CLOSE, role: "user" },
    toolsHeader: format.toolsHeader,
    toolsFooter: format.toolsFooter,
    defaultSystem: format.defaultSystem ?? null,
    toolsDefaultSystem: format.toolsDefaultSystem,
  };
}

/** A hard link when the bundle is on the model's file system (no copy of gigabytes), else a copy. */
async function placeModel(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EXDEV" && code !== "EPERM" && code !== "EMLINK" && code !== "ENOTSUP") throw error;
    await copyFile(from, to);
  }
}

/** Renames `staging` to `output`, replacing an earlier bundle there but nothing else. */
async function replaceFolder(staging: string, output: string): Promise<void> {
  let existing: string[] | undefined;
  try {
    existing = await readdir(output);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      throw badInput(`--output ${output}: not a folder (${(error as NodeJS.ErrnoException).code})`, "pass a new folder, or an earlier bundle to replace");
    }
  }
  if (existing === undefined) {
    await rename(staging, output);
    return;
  }
  if (existing.length > 0 && !existing.includes(BUNDLE_FILES.manifest)) {
    throw badInput(`--output ${output}: the folder is not empty and holds no bundle; refusing to replace it`, "pass a new folder, or an earlier bundle to replace");
  }
  const old = `${staging}.old`;
  await rename(output, old);
  try {
    await rename(staging, output);
  } catch (error) {
    await rename(old, output);
    throw error;
  }
  await rm(old, { recursive: true, force: true });
}
