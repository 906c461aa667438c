import { readFile } from "node:fs/promises";

import { canonicalJson, fileHash as contentHash, sha256 } from "../core/canonical.js";
import { VERSION } from "../core/version.js";
import type { ActionConfig } from "./inputs.js";

const short = (value: unknown) =>
  sha256(typeof value === "string" || value instanceof Uint8Array ? value : canonicalJson(value)).slice(0, 24);
const platform = () => `${process.platform}-${process.arch}`;

/** Synthesized data: the toolset, the generation config and the version of MCP-Forge that wrote it. */
export function datasetKey(toolsetHash: string, config: Pick<ActionConfig, "samples" | "seed">): string {
  return `mcp-forge-data-${short({ toolsetHash, samples: config.samples, seed: config.seed, version: VERSION })}`;
}

/**
 * LoRA checkpoints: the data, the model, the profile and the train-settings input. The run id ends the key so every run saves
 * its own entry, and the prefix restores the newest one: an interrupted job resumes from its checkpoint.
 */
export function checkpointKeyPrefix(
  dataHash: string,
  config: Pick<ActionConfig, "model" | "profile" | "trainSettings">,
): string {
  return `mcp-forge-lora-${short({ dataHash, model: config.model, profile: config.profile, settings: config.trainSettings, version: VERSION })}-`;
}

/** The trainer's venv: the Python project and its lock file. */
export async function venvKey(files: readonly string[]): Promise<string> {
  const texts = await Promise.all(files.map((f) => readFile(f, "utf8").catch(() => "")));
  return `mcp-forge-venv-${platform()}-${short(texts.join("\0"))}`;
}

/** The action's own node_modules (node-llama-cpp and its prebuilt binaries). */
export async function nodeModulesKey(lockFile: string, withBinaries: boolean): Promise<string> {
  return `mcp-forge-node-modules-${platform()}-node${process.versions.node.split(".")[0]}-${withBinaries ? "full" : "lite"}-${short(await readFile(lockFile, "utf8"))}`;
}

/**
 * The benchmark of the default branch's last passing run, under a key that starts with the branch
 * and the dataset: a pull request restores the newest one by prefix (PR runs may read caches of the
 * base branch), and only a run on the same data counts as comparable.
 */
export function baselineKeyPrefix(branch: string, datasetKeyValue: string): string {
  return `mcp-forge-baseline-${branch}-${datasetKeyValue}-`;
}

/** A file's content hash for cache keys: the first 24 hex digits of its sha256. */
export const fileHash = async (path: string) =>
  (await contentHash(path)).slice("sha256:".length, "sha256:".length + 24);
