import { stat } from "node:fs/promises";
import { join } from "node:path";

import { parse } from "yaml";

import { toolsetHash } from "../core/canonical.js";
import { badInput } from "../core/errors.js";
import type { McpTool, ToolsFile } from "../core/toolset.js";
import { verifyChecksums } from "./checksums.js";
import { containmentProblem, readContained } from "./contained.js";
import { diffToolsets, type ToolsetDiff } from "./drift.js";
import { readGgufHeader } from "./gguf.js";
import { BUNDLE_FILES, CHECKSUMMED_FILES, type PromptTemplateFile } from "./layout.js";
import { type AgentManifest, manifestProblems } from "./manifest.js";
import { pick } from "./sources.js";

/** One failed check, naming the bundle file it is about. */
export interface BundleProblem {
  file: string;
  message: string;
}

export interface IntegrityReport {
  /** Files whose checksum was checked. */
  checked: number;
  problems: BundleProblem[];
  manifest?: AgentManifest;
  tools?: McpTool[];
}

/**
 * Checks that a bundle is the one `pack` wrote: every file against SHA256SUMS, agent.yaml against
 * its schema, tools.json against the manifest's toolset hash, and model.gguf's own `mcp_forge.*`
 * metadata and chat template against agent.yaml, tools.json and prompt_template.json.
 */
export async function checkIntegrity(dir: string): Promise<IntegrityReport> {
  const isDir = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) throw badInput(`${dir}: not a folder`, "pass the folder `mcp-forge pack --output` wrote");
  const sums = await verifyChecksums(dir, CHECKSUMMED_FILES);
  const problems: BundleProblem[] = sums.problems.map((p) => ({ file: p.file, message: p.detail }));

  const manifest = await readYaml(dir, problems);
  if (manifest !== undefined) {
    for (const p of await manifestProblems(manifest))
      problems.push({ file: BUNDLE_FILES.manifest, message: `does not match schemas/agent.schema.json: ${p}` });
  }
  const valid =
    manifest !== undefined && !problems.some((p) => p.file === BUNDLE_FILES.manifest)
      ? (manifest as AgentManifest)
      : undefined;

  const toolsFile = await readJson<ToolsFile>(dir, BUNDLE_FILES.tools, problems);
  const tools = Array.isArray(toolsFile?.tools) ? toolsFile.tools : undefined;
  const hash = tools ? toolsetHash(tools) : undefined;
  if (toolsFile && !tools) problems.push({ file: BUNDLE_FILES.tools, message: "/tools is missing" });
  if (hash && toolsFile?.toolsetHash !== hash) {
    problems.push({
      file: BUNDLE_FILES.tools,
      message: `/toolsetHash is ${String(toolsFile?.toolsetHash)} but its tools hash to ${hash}`,
    });
  }
  if (hash && valid && valid.toolset.hash !== hash) {
    problems.push({
      file: BUNDLE_FILES.manifest,
      message: `/toolset/hash is ${valid.toolset.hash} but tools.json's tools hash to ${hash}`,
    });
  }
  if (valid) {
    const modelHash = sums.hashes.get(BUNDLE_FILES.model);
    if (modelHash && modelHash !== valid.model.sha256) {
      problems.push({
        file: BUNDLE_FILES.model,
        message: `sha256 ${modelHash} differs from agent.yaml /model/sha256 ${valid.model.sha256}`,
      });
    }
  }

  const promptTemplate = await readJson<PromptTemplateFile>(dir, BUNDLE_FILES.promptTemplate, problems);
  await checkModel(dir, { hash, manifest: valid, promptTemplate }, problems);
  return { checked: sums.checked, problems, manifest: valid, tools };
}

async function checkModel(
  dir: string,
  expected: { hash?: string; manifest?: AgentManifest; promptTemplate?: PromptTemplateFile },
  problems: BundleProblem[],
): Promise<void> {
  const file = BUNDLE_FILES.model;
  // SHA256SUMS's check already names a model.gguf that is missing or not a regular file inside.
  if (await containmentProblem(dir, file)) return;
  let header;
  try {
    header = await readGgufHeader(join(dir, file));
  } catch (error) {
    problems.push({ file, message: (error as Error).message });
    return;
  }
  const forgeHash = pick([header.forge], ["toolset_hash", "toolsetHash"]);
  if (forgeHash !== undefined && expected.hash && forgeHash !== expected.hash) {
    problems.push({
      file,
      message: `metadata mcp_forge.toolset_hash is ${String(forgeHash)} but tools.json's tools hash to ${expected.hash}`,
    });
  }
  const forgeTools = header.forge.tools;
  if (Array.isArray(forgeTools) && expected.hash && toolsetHash(forgeTools) !== expected.hash) {
    problems.push({
      file,
      message: `metadata mcp_forge.tools differ from tools.json (hash ${toolsetHash(forgeTools)} vs ${expected.hash})`,
    });
  }
  const manifest = expected.manifest;
  if (manifest) {
    const base = pick([header.forge], ["base_model", "training.base_model"]);
    if (base !== undefined && manifest.baseModel.id !== null && String(base) !== manifest.baseModel.id) {
      problems.push({
        file,
        message: `metadata base model ${String(base)} differs from agent.yaml /baseModel/id ${manifest.baseModel.id}`,
      });
    }
    const quantization = pick([header.forge], ["quantization"]);
    if (
      quantization !== undefined &&
      manifest.model.quantization !== null &&
      String(quantization) !== manifest.model.quantization
    ) {
      problems.push({
        file,
        message: `metadata quantization ${String(quantization)} differs from agent.yaml /model/quantization ${manifest.model.quantization}`,
      });
    }
    const configHash = pick([header.forge], ["training_config_hash", "training.config_hash"]);
    if (
      configHash !== undefined &&
      manifest.training.configHash !== null &&
      String(configHash) !== manifest.training.configHash
    ) {
      problems.push({
        file,
        message: `metadata training config hash ${String(configHash)} differs from agent.yaml /training/configHash ${manifest.training.configHash}`,
      });
    }
  }
  if (expected.promptTemplate && header.chatTemplate !== expected.promptTemplate.chatTemplate) {
    problems.push({ file, message: "its tokenizer.chat_template differs from prompt_template.json /chatTemplate" });
  }
}

async function readYaml(dir: string, problems: BundleProblem[]): Promise<unknown> {
  const text = await readText(dir, BUNDLE_FILES.manifest, problems);
  if (text === undefined) return undefined;
  try {
    return parse(text, { maxAliasCount: 100 }) as unknown;
  } catch (error) {
    problems.push({
      file: BUNDLE_FILES.manifest,
      message: `not valid YAML (${(error as Error).message.split("\n")[0]})`,
    });
    return undefined;
  }
}

async function readJson<T>(dir: string, file: string, problems: BundleProblem[]): Promise<T | undefined> {
  const text = await readText(dir, file, problems);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    problems.push({ file, message: `not valid JSON (${(error as Error).message})` });
    return undefined;
  }
}

/** A bundle file's text, read only when it is a regular file inside the bundle. */
async function readText(dir: string, file: string, problems: BundleProblem[]): Promise<string | undefined> {
  const unsafe = await containmentProblem(dir, file);
  if (unsafe) {
    problems.push({ file, message: unsafe === "missing" ? `${join(dir, file)} is missing` : `${unsafe}; not read` });
    return undefined;
  }
  return readContained(dir, file);
}

/** The drift between the bundle's tools and a live toolset: undefined when their hashes agree. */
export function checkDrift(bundleTools: readonly McpTool[], liveTools: readonly McpTool[]): ToolsetDiff | undefined {
  return toolsetHash(bundleTools) === toolsetHash(liveTools) ? undefined : diffToolsets(bundleTools, liveTools);
}

/** Human lines for a drift: each tool added, removed or changed, and why a change can break calls. */
export function formatDrift(diff: ToolsetDiff, show: (text: string) => string): string[] {
  const lines = [`toolset drift: ${diff.breaking ? "BREAKING, calls the model makes can fail" : "no breaking change"}`];
  for (const name of diff.added) lines.push(`  + ${show(name)}: new tool (the model was not trained on it)`);
  for (const name of diff.removed) lines.push(`  - ${show(name)}: removed (breaking: the model still calls it)`);
  for (const c of diff.changed) {
    const kind = c.breaking ? "breaking" : c.cosmetic ? "cosmetic" : "non-breaking";
    lines.push(`  ~ ${show(c.name)}: changed (${kind})`);
    for (const r of c.reasons)
      lines.push(
        `      ${r.breaking ? "breaking" : r.cosmetic ? "cosmetic" : "compatible"}  ${show(r.path)}: ${show(r.message)}`,
      );
  }
  return lines;
}
