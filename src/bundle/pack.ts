import { randomBytes } from "node:crypto";
import { mkdir, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

import { writeFileAtomic, writeJsonAtomic } from "../core/atomic.js";
import { fileHash } from "../core/canonical.js";
import { badInput } from "../core/errors.js";
import { onShutdown } from "../core/shutdown.js";
import { recordedPath, withStage } from "../core/state.js";
import type { ToolsFile } from "../core/toolset.js";
import { toFunctionTool } from "../eval/samples.js";
import { checksumsText } from "./checksums.js";
import { buildManifest, buildPromptTemplate } from "./describe.js";
import { placeModel, replaceFolder } from "./folder.js";
import { type PackInputs, readPackInputs } from "./inputs.js";
import { BUNDLE_FILES } from "./layout.js";
import { type AgentManifest, manifestYaml } from "./manifest.js";
import { buildModelfile } from "./modelfile.js";
import { bundleReadme } from "./readme.js";
import { qualitySummary, trainedTools } from "./sources.js";
import { buildValidationSet, type ValidationSet } from "./validation-set.js";

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

/**
 * The PACKAGING stage: writes the agent bundle (docs/contract.md §5) into a fresh folder beside
 * `output` and renames it into place at the end, so `output` is always a whole bundle or absent.
 */
export async function packBundle(options: PackOptions): Promise<PackResult> {
  if (options.name !== undefined && !NAME_PATTERN.test(options.name)) {
    throw badInput(
      `--name ${JSON.stringify(options.name)}: expected lower-case letters, digits, ".", "_" or "-" (at most 64, starting with a letter or digit)`,
      "e.g. --name weather-agent",
    );
  }
  const version = options.version ?? "0.1.0";
  if (!/^[\w.+-]{1,64}$/.test(version))
    throw badInput(`--version ${JSON.stringify(version)}: expected a version like 1.0.0`);
  const inputs = await readPackInputs(options);
  const name = options.name ?? defaultName(inputs.tools);
  if (!inputs.systemPrompt) options.info?.("warning: the samples have no system prompt; the Modelfile gets no SYSTEM");
  const validationSet = buildValidationSet(inputs.evalSamples, "data/eval.jsonl", inputs.tools.toolsetHash);
  const manifest = buildManifest(inputs, {
    name,
    version,
    validationPrompts: validationSet.prompts.length,
    validation: await qualitySummary(options.workdir, "reports/validation.json"),
    benchmark: await qualitySummary(options.workdir, "reports/benchmark.json"),
  });

  const { output } = options;
  await mkdir(dirname(output), { recursive: true });
  const staging = join(dirname(output), `.${basename(output)}.${randomBytes(6).toString("hex")}.tmp`);
  const build = async (): Promise<PackResult> => {
    const stopOnSignal = onShutdown(() => rm(staging, { recursive: true, force: true }));
    try {
      const sums = await writeBundle(staging, options.model, inputs, manifest, validationSet);
      await replaceFolder(staging, output);
      const files = sums
        .trim()
        .split("\n")
        .map((l) => l.slice(66))
        .concat(BUNDLE_FILES.checksums);
      options.info?.(`packed ${files.length} files into ${output}`);
      return { output, manifest, files };
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    } finally {
      stopOnSignal();
    }
  };
  // A bundle can be packed from files alone, without a work directory to record it in.
  const recorded = await stat(options.workdir).then(
    () => true,
    () => false,
  );
  if (!recorded) return build();
  const { value } = await withStage(
    options.workdir,
    "PACKAGING",
    {
      inputs: { model: `sha256:${inputs.modelSha}`, tools: inputs.tools.toolsetHash },
      finish: async (result) => ({
        outputs: { [recordedPath(options.workdir, output)]: await fileHash(join(output, BUNDLE_FILES.checksums)) },
        summary: {
          bundle: output,
          name,
          version,
          toolsetHash: inputs.tools.toolsetHash,
          validation: result.manifest.validation.status,
          benchmark: result.manifest.benchmark.status,
        },
      }),
    },
    build,
  );
  return value;
}

/** Writes every bundle file into `dir`; returns SHA256SUMS's text. */
async function writeBundle(
  dir: string,
  model: string,
  inputs: PackInputs,
  manifest: AgentManifest,
  validationSet: ValidationSet,
): Promise<string> {
  await mkdir(dir);
  await placeModel(model, join(dir, BUNDLE_FILES.model));
  await writeJsonAtomic(join(dir, BUNDLE_FILES.tools), inputs.tools);
  await writeJsonAtomic(join(dir, BUNDLE_FILES.validationSet), validationSet);
  await writeJsonAtomic(join(dir, BUNDLE_FILES.promptTemplate), buildPromptTemplate(inputs, manifest.runtime.stop));
  const modelfile = buildModelfile({
    format: inputs.format,
    tools: trainedTools(
      [...(inputs.trainSamples ?? []), ...inputs.evalSamples],
      inputs.tools.tools.map(toFunctionTool),
    ),
    systemPrompt: inputs.systemPrompt,
    stop: manifest.runtime.stop,
    temperature: manifest.runtime.temperature,
    contextSize: manifest.runtime.contextSize,
  });
  await writeFileAtomic(join(dir, BUNDLE_FILES.modelfile), modelfile);
  await writeFileAtomic(join(dir, BUNDLE_FILES.readme), bundleReadme(manifest, inputs.tools.tools));
  await writeFileAtomic(join(dir, BUNDLE_FILES.manifest), await manifestYaml(manifest));
  const sums = await checksumsText(dir, new Map([[BUNDLE_FILES.model, inputs.modelSha]]));
  await writeFileAtomic(join(dir, BUNDLE_FILES.checksums), sums);
  return sums;
}

function defaultName(tools: ToolsFile): string {
  const slug = tools.server.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 50);
  return `${slug || "mcp"}-agent`;
}
