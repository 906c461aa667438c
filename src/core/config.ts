import { readFile } from "node:fs/promises";

import { parse } from "yaml";

import { DEFAULT_SCENARIO_MIX, type Scenario, SCENARIOS } from "./contract.js";
import { badInput } from "./errors.js";

/** The `generate:` and `qa:` sections of `mcp-forge.yaml`; every field optional. */
export interface ForgeConfig {
  generate: {
    samples?: number;
    seed?: number;
    augmentFactor?: number;
    evalRatio?: number;
    scenarioMix?: Partial<Record<Scenario, number>>;
    noToolRatio?: number;
    errorRatio?: number;
    toolWeights?: Record<string, number>;
    execute?: "readonly" | "all" | "none";
    llmModel?: string;
    llmBaseUrl?: string;
    concurrency?: number;
  };
  qa: {
    minSchemaPassRate?: number;
    minPerTool?: number;
    nearDuplicateThreshold?: number;
    maxDropRate?: number;
    maxJsonInUser?: number;
    maxToolNameInUser?: number;
    maxUngroundedValues?: number;
    minServerSuccess?: number;
    maxErrorTextInSuccess?: number;
    maxAnswerEcho?: number;
    maxSharedState?: number;
  };
}

const NUMBER_KEYS = {
  generate: ["samples", "seed", "augmentFactor", "evalRatio", "noToolRatio", "errorRatio", "concurrency"],
  qa: [
    "minSchemaPassRate",
    "minPerTool",
    "nearDuplicateThreshold",
    "maxDropRate",
    "maxJsonInUser",
    "maxToolNameInUser",
    "maxUngroundedValues",
    "minServerSuccess",
    "maxErrorTextInSuccess",
    "maxAnswerEcho",
    "maxSharedState",
  ],
} as const;

/**
 * The one reader of `mcp-forge.yaml` (or `path`): its text and parsed YAML. A missing default file
 * is empty (no `file`, text "", doc undefined); a missing named file or invalid YAML is bad input.
 * Each section is checked by its reader: `readForgeConfig` (generate:, qa:), `readRunConfig` (run:).
 */
export async function readConfigFile(path: string | undefined): Promise<{ file?: string; text: string; doc: unknown }> {
  const file = path ?? "mcp-forge.yaml";
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    if (path === undefined) return { text: "", doc: undefined };
    throw badInput(`--config ${file}: cannot read the file`, "pass an existing mcp-forge.yaml");
  }
  try {
    return { file, text, doc: parse(text) };
  } catch (error) {
    throw badInput(`${file}: not valid YAML (${(error as Error).message})`);
  }
}

/** Reads `mcp-forge.yaml` (or `path`); a missing default file is an empty config, a missing named one an error. */
export async function readForgeConfig(path: string | undefined): Promise<ForgeConfig> {
  const { file = "mcp-forge.yaml", doc } = await readConfigFile(path);
  const root = (doc ?? {}) as Record<string, unknown>;
  const config: ForgeConfig = { generate: {}, qa: {} };
  for (const section of ["generate", "qa"] as const) {
    const raw = root[section];
    if (raw === undefined || raw === null) continue;
    if (typeof raw !== "object" || Array.isArray(raw)) throw badInput(`${file}: /${section} must be a mapping`);
    const values = raw as Record<string, unknown>;
    for (const key of NUMBER_KEYS[section] as readonly string[]) {
      const v = values[key];
      if (v === undefined) continue;
      if (typeof v !== "number" || !Number.isFinite(v))
        throw badInput(`${file}: /${section}/${key} must be a number, got ${JSON.stringify(v)}`);
      if (section === "qa" && key !== "minPerTool" && (v < 0 || v > 1))
        throw badInput(`${file}: /qa/${key} must be a share between 0 and 1, got ${v}`);
      (config[section] as Record<string, unknown>)[key] = v;
    }
    if (section === "generate") readGenerateExtras(file, values, config.generate);
  }
  return config;
}

function readGenerateExtras(file: string, values: Record<string, unknown>, out: ForgeConfig["generate"]): void {
  const mix = values.scenarioMix;
  if (mix !== undefined) {
    if (!mix || typeof mix !== "object") throw badInput(`${file}: /generate/scenarioMix must map scenarios to ratios`);
    out.scenarioMix = {};
    for (const [k, v] of Object.entries(mix)) {
      if (!SCENARIOS.includes(k as Scenario))
        throw badInput(`${file}: /generate/scenarioMix/${k}: unknown scenario`, `use ${SCENARIOS.join(", ")}`);
      if (typeof v !== "number" || v < 0) throw badInput(`${file}: /generate/scenarioMix/${k} must be a number ≥ 0`);
      out.scenarioMix[k as Scenario] = v;
    }
  }
  const weights = values.toolWeights;
  if (weights !== undefined) {
    if (!weights || typeof weights !== "object")
      throw badInput(`${file}: /generate/toolWeights must map tool names to weights`);
    for (const [k, v] of Object.entries(weights)) {
      if (typeof v !== "number" || v < 0) throw badInput(`${file}: /generate/toolWeights/${k} must be a number ≥ 0`);
    }
    out.toolWeights = weights as Record<string, number>;
  }
  for (const key of ["execute", "llmModel", "llmBaseUrl"] as const) {
    const v = values[key];
    if (v === undefined) continue;
    if (typeof v !== "string") throw badInput(`${file}: /generate/${key} must be a string`);
    if (key === "execute" && !["readonly", "all", "none"].includes(v))
      throw badInput(`${file}: /generate/execute must be readonly, all or none`);
    (out as Record<string, unknown>)[key] = v;
  }
}

/**
 * The scenario mix: the contract's defaults, then the config's mix, then fixed ratios
 * (--no-tool-ratio, --error-ratio); the scenarios not fixed share what is left in their proportions.
 */
export function resolveMix(
  base: Partial<Record<Scenario, number>> | undefined,
  fixed: Partial<Record<Scenario, number>>,
): Record<Scenario, number> {
  const mix = { ...DEFAULT_SCENARIO_MIX, ...base };
  for (const [k, v] of Object.entries(fixed)) {
    if (v !== undefined && (!(v >= 0) || v > 1))
      throw badInput(`--${k.replace("_", "-")}-ratio ${v}: expected a number between 0 and 1`);
  }
  const fixedKeys = SCENARIOS.filter((s) => fixed[s] !== undefined);
  const fixedSum = fixedKeys.reduce((a, s) => a + fixed[s]!, 0);
  if (fixedSum > 1) throw badInput(`the fixed scenario ratios add up to ${fixedSum}, more than 1`);
  const free = SCENARIOS.filter((s) => fixed[s] === undefined);
  const freeSum = free.reduce((a, s) => a + mix[s], 0);
  const out = {} as Record<Scenario, number>;
  for (const s of fixedKeys) out[s] = fixed[s]!;
  for (const s of free) out[s] = freeSum > 0 ? (mix[s] / freeSum) * (1 - fixedSum) : 0;
  const total = SCENARIOS.reduce((a, s) => a + out[s], 0);
  if (!(total > 0)) throw badInput("the scenario mix is all zeros", "give at least one scenario a ratio above 0");
  for (const s of SCENARIOS) out[s] = Math.round((out[s] / total) * 1e6) / 1e6;
  return out;
}
