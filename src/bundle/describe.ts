import { VERSION } from "../core/version.js";
import { TOOL_CALL_CLOSE, TOOL_CALL_OPEN, TOOL_RESPONSE_CLOSE, TOOL_RESPONSE_OPEN } from "./chat-format.js";
import type { PackInputs } from "./inputs.js";
import { BUNDLE_FILES, type PromptTemplateFile } from "./layout.js";
import type { AgentManifest, QualitySummary } from "./manifest.js";
import { pick, scenarioCounts } from "./sources.js";

const DEFAULT_CONTEXT = 4096;

/** The model's runtime settings: greedy decoding, the context it was trained for, its stop sequences. */
export function runtimeSettings(inputs: PackInputs): AgentManifest["runtime"] {
  const { gguf, training } = inputs;
  const trainedContext = pick([gguf.forge, training], ["max_seq_length", "training.max_seq_length", "maxSeqLength"]);
  return {
    temperature: 0,
    contextSize:
      typeof trainedContext === "number"
        ? trainedContext
        : Math.min(gguf.contextLength ?? DEFAULT_CONTEXT, DEFAULT_CONTEXT),
    stop: [...new Set([inputs.format.turns.end, gguf.eosToken].filter((t) => t !== ""))],
    chatFormat: "hermes",
  };
}

/**
 * agent.yaml's content. Provenance comes from the GGUF's `mcp_forge.*` metadata (what the export
 * wrote into the model itself) and else from state.json's stage summaries.
 */
export function buildManifest(
  inputs: PackInputs,
  meta: {
    name: string;
    version: string;
    validationPrompts: number;
    validation: QualitySummary;
    benchmark: QualitySummary;
  },
): AgentManifest {
  const { tools, gguf, training, exporting } = inputs;
  return {
    schemaVersion: 1,
    name: meta.name,
    version: meta.version,
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
      sha256: inputs.modelSha,
      sizeBytes: inputs.modelSize,
      architecture: gguf.architecture ?? null,
      quantization: text(pick([gguf.forge, exporting], ["quantization", "export.quantization", "quant"])),
    },
    training: {
      configHash: hashOrNull(
        pick([gguf.forge, training], ["training_config_hash", "training.config_hash", "configHash"]),
      ),
      profile: text(pick([gguf.forge, training], ["training.profile", "profile"])),
      fractionTrained: numberOrNull(pick([training], ["fractionTrained"])),
      timeBudgetMinutes: numberOrNull(pick([training], ["timeBudgetMinutes"])),
    },
    toolset: { hash: tools.toolsetHash, file: BUNDLE_FILES.tools, tools: tools.tools.map((t) => t.name) },
    dataset: {
      trainSamples: inputs.trainSamples?.length ?? null,
      evalSamples: inputs.evalSamples.length,
      scenarios: scenarioCounts(inputs.trainSamples ?? []),
      validationPrompts: meta.validationPrompts,
    },
    validation: meta.validation,
    benchmark: meta.benchmark,
    runtime: runtimeSettings(inputs),
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
}

export function buildPromptTemplate(inputs: PackInputs, stop: string[]): PromptTemplateFile {
  const { gguf, format } = inputs;
  return {
    format: "hermes",
    chatTemplate: gguf.chatTemplate,
    bosToken: gguf.bosToken,
    eosToken: gguf.eosToken,
    systemPrompt: inputs.systemPrompt ?? null,
    stop,
    toolCall: {
      open: TOOL_CALL_OPEN,
      close: TOOL_CALL_CLOSE,
      body: '{"name": <tool name>, "arguments": <arguments JSON object>}',
      role: "assistant",
    },
    toolResponse: { open: TOOL_RESPONSE_OPEN, close: TOOL_RESPONSE_CLOSE, role: "user" },
    toolList: format.toolList,
    systemTurn: format.systemTurn,
    toolsHeader: format.toolsHeader,
    toolsFooter: format.toolsFooter,
    defaultSystem: format.defaultSystem ?? null,
    toolsDefaultSystem: format.toolsDefaultSystem,
  };
}

function text(value: string | number | undefined): string | null {
  return value === undefined ? null : String(value);
}

function numberOrNull(value: string | number | undefined): number | null {
  return typeof value === "number" ? value : null;
}

function hashOrNull(value: string | number | undefined): string | null {
  return typeof value === "string" && /^sha256:[0-9a-f]{64}$/.test(value) ? value : null;
}
