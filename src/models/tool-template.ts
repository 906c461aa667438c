import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

import { PACKAGE_ROOT } from "../core/python.js";
import { ChatTemplate, type TemplateTokens } from "./template.js";
import type { ChatMessage, FunctionTool } from "./types.js";

/** The tokens a template opens and closes each turn with, and the assistant's role name after the opening one. */
export interface TurnMarkers {
  start: string;
  end: string;
  assistant: string;
}

interface ToolTemplatesFile {
  templates: Array<TurnMarkers & { family: string; file: string }>;
  probe: { tools: FunctionTool[]; messages: ChatMessage[]; mustAppear: string[] };
}

const TRAINER_DIR = join(PACKAGE_ROOT, "python", "mcp_forge_trainer");

/**
 * mcp-forge's Hermes-style tool templates by the turn markers they are written on, and the probe
 * that tells whether a template carries tools: the trainer's own (chat_templates.py), which trains
 * with them when a model's template cannot render tools and whose export writes them into the GGUF.
 */
let spec: ToolTemplatesFile | undefined;
/** Read on first use, so commands that never meet a chat template (a bundled CLI without python/) do not need the file. */
function toolTemplates(): ToolTemplatesFile {
  spec ??= JSON.parse(readFileSync(join(TRAINER_DIR, "tool_templates.json"), "utf8")) as ToolTemplatesFile;
  return spec;
}

export function turnMarkers(): TurnMarkers[] {
  return toolTemplates().templates.map(({ start, end, assistant }) => ({ start, end, assistant }));
}

/**
 * Whether a chat template renders a tool call with its name and arguments, and the tool's result.
 * A template that fails on the probe conversation (Gemma's raises on tool turns) cannot carry tools.
 */
export function carriesTools(source: string, tokens: TemplateTokens): boolean {
  let text: string;
  try {
    text = new ChatTemplate(source, tokens).render(toolTemplates().probe.messages, toolTemplates().probe.tools, false);
  } catch {
    return false;
  }
  return toolTemplates().probe.mustAppear.every((s) => text.includes(s));
}

/**
 * The chat template to prompt a model with: its own when it carries tools, else mcp-forge's tool
 * template on the model's turn markers (`isToken`: whether a text is one token of its vocabulary),
 * as training would use; its own (or none) when it has neither.
 */
export async function templateWithTools(
  own: string | undefined,
  tokens: TemplateTokens,
  isToken: (text: string) => boolean,
): Promise<string | undefined> {
  if (own && carriesTools(own, tokens)) return own;
  const fallback = toolTemplates().templates.find(({ start, end }) => isToken(start) && isToken(end));
  return fallback ? await readFile(join(TRAINER_DIR, fallback.file), "utf8") : own;
}
