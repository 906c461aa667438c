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

export const CHATML_TURNS: TurnMarkers = { start: "<|im_start|>", end: "<|im_end|>", assistant: "assistant" };
export const GEMMA_TURNS: TurnMarkers = { start: "<start_of_turn>", end: "<end_of_turn>", assistant: "model" };

/**
 * mcp-forge's Hermes-style tool templates, by the turn markers they are written on. The trainer
 * (python/mcp_forge_trainer/chat_templates.py) trains with them when a model's own template cannot
 * render tools, and export writes them into the GGUF; the files are the one definition of both.
 */
const TOOL_TEMPLATES = [
  { turns: CHATML_TURNS, file: "tools_chatml.jinja" },
  { turns: GEMMA_TURNS, file: "tools_gemma.jinja" },
];
export const TURN_MARKERS = TOOL_TEMPLATES.map((t) => t.turns);

const PROBE_NAME = "mcp_forge_probe_lookup";
const PROBE_VALUE = "probe-value-7f3a";
const PROBE_RESULT = "probe-result-7f3a";
const PROBE_TOOLS: FunctionTool[] = [
  {
    type: "function",
    function: { name: PROBE_NAME, description: "Looks a key up", parameters: { type: "object", properties: { key: { type: "string" } }, required: ["key"] } },
  },
];
const PROBE_MESSAGES: ChatMessage[] = [
  { role: "user", content: "Look the key up." },
  { role: "assistant", content: "", tool_calls: [{ id: "call_1", type: "function", function: { name: PROBE_NAME, arguments: { key: PROBE_VALUE } } }] },
  { role: "tool", tool_call_id: "call_1", name: PROBE_NAME, content: PROBE_RESULT },
  { role: "assistant", content: "Done." },
];

/**
 * Whether a chat template renders a tool call with its name and arguments, and the tool's result
 * (the trainer's probe). A template that fails on the probe conversation cannot carry tools.
 */
export function carriesTools(source: string, tokens: TemplateTokens): boolean {
  let text: string;
  try {
    text = new ChatTemplate(source, tokens).render(PROBE_MESSAGES, PROBE_TOOLS, false);
  } catch {
    return false;
  }
  return [PROBE_NAME, PROBE_VALUE, PROBE_RESULT].every((s) => text.includes(s));
}

/**
 * The chat template to prompt a model with: its own when it carries tools, else mcp-forge's tool
 * template on the model's turn markers (`isToken`: whether a text is one token of its vocabulary),
 * as training would use; undefined when it has neither.
 */
export async function templateWithTools(own: string | undefined, tokens: TemplateTokens, isToken: (text: string) => boolean): Promise<string | undefined> {
  if (own && carriesTools(own, tokens)) return own;
  const fallback = TOOL_TEMPLATES.find(({ turns }) => isToken(turns.start) && isToken(turns.end));
  return fallback ? await readFile(join(PACKAGE_ROOT, "python", "mcp_forge_trainer", fallback.file), "utf8") : own;
}
