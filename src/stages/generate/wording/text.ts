import type { McpTool } from "../../../core/toolset.js";
import { oneLine } from "../../../core/untrusted-text.js";

/** "get_file_info", "get-sum", "readGraph" → "get file info", "get sum", "read graph". */
export function humanize(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[_\-.:/]+/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .toLowerCase();
}

/** How a value is written in a request: strings quoted, everything else as JSON, so the call can be read back. */
export function formatValue(value: unknown): string {
  return typeof value === "string" ? `"${value}"` : JSON.stringify(value);
}

/** The first sentence of a tool's description, as its purpose in the system prompt. */
export function purposeOf(tool: McpTool): string {
  const text = oneLine(tool.description ?? tool.title ?? humanize(tool.name), 400);
  const first = /^(.+?[.!?])(\s|$)/.exec(text)?.[1] ?? text;
  return oneLine(first, 120);
}

/** Descriptions that start with a verb ("Echo this") describe an action, not a name. */
const VERBS = new Set(
  "add analyze append calculate call cancel check clear close compare compute convert copy count create delete describe download echo edit enable disable export fetch find generate get gzip import insert list load lookup make merge move open parse ping post print publish push query read remove rename render resize run save search send set show simulate sort start stop subscribe summarize toggle translate trigger update upload validate write".split(
    " ",
  ),
);

const FILLER = new Set(["a", "an", "the", "to", "of", "for", "which", "that", "is", "be", "in", "on", "with"]);
/** Descriptions that start like an instruction ("Choose city") are not names. */
const INSTRUCTION = new Set([
  "choose",
  "select",
  "pick",
  "enter",
  "provide",
  "specify",
  "give",
  "optional",
  "required",
]);

/**
 * How a parameter is named in a request: its description when that is a short noun phrase
 * ("City name" → "city name"), else its humanized name. Fixed per parameter, so it is learnable.
 */
export function labelOf(tool: McpTool, key: string): string {
  const schema = (tool.inputSchema.properties as Record<string, { description?: unknown }> | undefined)?.[key];
  const description = typeof schema?.description === "string" ? schema.description.trim().replace(/\.$/, "") : "";
  const words = description.split(/\s+/);
  if (
    description &&
    words.length <= 3 &&
    /^[A-Za-z][A-Za-z0-9 -]*$/.test(description) &&
    !words.some((w) => FILLER.has(w.toLowerCase())) &&
    !VERBS.has(words[0]!.toLowerCase()) &&
    !INSTRUCTION.has(words[0]!.toLowerCase())
  ) {
    return description.toLowerCase();
  }
  return humanize(key) || key;
}
