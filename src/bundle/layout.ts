/** The bundle's files (docs/contract.md §5), relative to the bundle folder. */
export const BUNDLE_FILES = {
  model: "model.gguf",
  tools: "tools.json",
  manifest: "agent.yaml",
  promptTemplate: "prompt_template.json",
  modelfile: "Modelfile",
  readme: "README.md",
  validationSet: "tests/validation.json",
  checksums: "SHA256SUMS",
} as const;

/** Every file SHA256SUMS must list. */
export const CHECKSUMMED_FILES: readonly string[] = Object.values(BUNDLE_FILES).filter(
  (f) => f !== BUNDLE_FILES.checksums,
);

/** `prompt_template.json`: how to prompt the model without MCP-Forge. */
export interface PromptTemplateFile {
  format: "hermes";
  /** The Jinja chat template from the GGUF (`tokenizer.chat_template`), as used in training. */
  chatTemplate: string;
  bosToken: string;
  eosToken: string;
  /** The system prompt every training sample started with; the tools are added by the template. */
  systemPrompt: string | null;
  stop: string[];
  toolCall: { open: string; close: string; body: string; role: "assistant" };
  toolResponse: { open: string; close: string; role: "user" };
  /** How the chat template lists the tools: one JSON line each, or not at all (the tiny model). */
  toolList: "json" | "none";
  /** Whether the chat template renders a first system message (the tiny model's does not). */
  systemTurn: boolean;
  /** The parts of the system turn around the tool list, read from the chat template. */
  toolsHeader: string;
  toolsFooter: string;
  /** What the template puts in the system turn when a conversation has no system message: without tools, with tools. */
  defaultSystem: string | null;
  toolsDefaultSystem: string;
}
