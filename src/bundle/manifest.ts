import { readFile } from "node:fs/promises";
import { join } from "node:path";

import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { stringify } from "yaml";

import { PACKAGE_ROOT } from "../core/python.js";

export type QualityStatus = "passed" | "failed" | "not run";

export interface QualitySummary {
  status: QualityStatus;
  report?: string;
  metrics?: Record<string, number | null>;
  thresholds?: Record<string, number>;
  baseline?: string;
  baselineMetrics?: Record<string, number | null>;
  latencyMs?: Record<string, number>;
  regressions?: string[];
  /** The eval set the model was graded on: its file (relative to the work directory, else its name) and content hash. */
  evalSet?: { file: string; hash: string };
}

/** The bundle's `agent.yaml`; its JSON Schema is `schemas/agent.schema.json`. */
export interface AgentManifest {
  schemaVersion: 1;
  name: string;
  version: string;
  description: string;
  createdAt: string;
  createdBy: string;
  server: { name: string; version: string };
  baseModel: { id: string | null; revision: string | null };
  model: {
    file: "model.gguf";
    sha256: string;
    sizeBytes: number;
    architecture: string | null;
    quantization: string | null;
  };
  /** `fractionTrained`: the share of the recipe's tokens trained (below 1 when a time budget cut it); null when unknown. */
  training: {
    configHash: string | null;
    profile: string | null;
    fractionTrained?: number | null;
    timeBudgetMinutes?: number | null;
  };
  toolset: { hash: string; file: "tools.json"; tools: string[] };
  dataset: {
    trainSamples: number | null;
    evalSamples: number | null;
    scenarios: Record<string, number>;
    validationPrompts: number;
  };
  validation: QualitySummary;
  benchmark: QualitySummary;
  runtime: { temperature: number; contextSize: number; stop: string[]; chatFormat: "hermes" };
  files: {
    model: "model.gguf";
    tools: "tools.json";
    promptTemplate: "prompt_template.json";
    modelfile: "Modelfile";
    readme: "README.md";
    validationSet: "tests/validation.json";
    checksums: "SHA256SUMS";
  };
}

export const MANIFEST_SCHEMA_PATH = join(PACKAGE_ROOT, "schemas", "agent.schema.json");

let validator: ValidateFunction | undefined;

async function manifestValidator(): Promise<ValidateFunction> {
  if (!validator) {
    const schema = JSON.parse(await readFile(MANIFEST_SCHEMA_PATH, "utf8")) as Record<string, unknown>;
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats.default(ajv);
    validator = ajv.compile(schema);
  }
  return validator;
}

/** Problems of a manifest against its schema, each as "JSON pointer: message". */
export async function manifestProblems(value: unknown): Promise<string[]> {
  const validate = await manifestValidator();
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => {
    const extra =
      e.keyword === "additionalProperties"
        ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})`
        : "";
    return `${e.instancePath || "/"}: ${e.message ?? "invalid"}${extra}`;
  });
}

/** The manifest as YAML, after checking it against the schema (a failure here is our bug). */
export async function manifestYaml(manifest: AgentManifest): Promise<string> {
  const problems = await manifestProblems(manifest);
  if (problems.length > 0) throw new Error(`agent.yaml does not match ${MANIFEST_SCHEMA_PATH}: ${problems.join("; ")}`);
  return `# MCP-Forge agent bundle manifest; schema: schemas/agent.schema.json in the mcp-forge package\n${stringify(manifest, { lineWidth: 0 })}`;
}
