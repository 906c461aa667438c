import { isObject, type Schema } from "../../core/schema-walk.js";
import type { McpTool } from "../../core/toolset.js";
import { type IntentKind, intentOf, plural, primaryKey, singular } from "./wording/phrasing.js";
import { humanize } from "./wording/text.js";

const PAST: Record<Exclude<IntentKind, "do">, string> = {
  find: "Found",
  show: "Fetched",
  add: "Added",
  remove: "Deleted",
  change: "Updated",
};
/** Output fields that carry a sentence about the call, never data of their own. */
const SENTENCE_KEY = /^(message|msg|status_?text|detail|details|summary|info|note)$/i;
/** Output text that, after a state-changing call, is the server's word on it: a confirmation, never a sentence from a pool. */
const REPLY_KEY = /^(content|text|result|output|response)$/i;
/** Output numbers that count what the call acted on. */
const COUNT_KEY = /^(count|total|deleted|created|added|updated|removed|affected|n)(_?count)?$/i;
/** Nouns that name the change, not the things changed ("deletions"): the tool's object says those. */
const NOMINAL = /(ions?|ments?|updates?|changes?|edits?)$/;

/**
 * A plain confirmation of what a state-changing call did, from its own arguments: "Deleted 2
 * relations", "Added 1 entity", "Updated "draft.md"". Never a sentence from a pool.
 */
export function confirmation(tool: McpTool, args: Record<string, unknown>): string {
  const intent = intentOf(tool);
  if (intent.kind === "do") return "Done.";
  const key = primaryKey(tool, args);
  const value = key !== undefined ? args[key] : undefined;
  const noun = key !== undefined ? nounOf(key) : "";
  if (Array.isArray(value) && noun && !NOMINAL.test(noun))
    return `${PAST[intent.kind]} ${value.length} ${plural(noun, value.length)}.`;
  if (typeof value === "string" && value.length <= 60 && !/\n/.test(value)) return `${PAST[intent.kind]} "${value}".`;
  return `${PAST[intent.kind]} ${intent.object}.`;
}

/** "entityNames" → "entity", "relations" → "relation", "paths" → "path". */
function nounOf(key: string): string {
  const words = humanize(key).split(" ");
  if (words.length > 1 && /^(names|ids|keys|list)$/.test(words[words.length - 1]!)) words.pop();
  return singular(words.join(" "));
}

/**
 * An output drawn from the outputSchema, made to agree with the call: a field named like an
 * argument takes the argument; a list whose items share fields with a list argument's items holds
 * one item per argument item, those fields copied (a lone leftover field of the same kind fills the
 * one left: `contents` → `addedObservations`); a message (and, for a state-changing call, its text
 * reply) is a confirmation; a count counts the call's items.
 */
export function alignWithCall(
  tool: McpTool,
  output: Record<string, unknown>,
  args: Record<string, unknown>,
): Record<string, unknown> {
  const props = isObject(tool.outputSchema?.properties) ? (tool.outputSchema.properties as Record<string, Schema>) : {};
  const inputProps = isObject(tool.inputSchema.properties)
    ? (tool.inputSchema.properties as Record<string, Schema>)
    : {};
  const key = primaryKey(tool, args);
  const primary = key !== undefined ? args[key] : undefined;
  const changes = intentOf(tool).kind !== "find" && intentOf(tool).kind !== "show";
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(output)) {
    if (typeof v === "string" && changes && REPLY_KEY.test(k)) out[k] = confirmation(tool, args);
    else if (k in args && kindOf(args[k]) === kindOf(v)) out[k] = args[k];
    else if (Array.isArray(v)) out[k] = alignList(v, itemKeys(props[k]), args, inputProps) ?? v;
    else if (typeof v === "string" && SENTENCE_KEY.test(k)) out[k] = confirmation(tool, args);
    else if (typeof v === "number" && COUNT_KEY.test(k) && Array.isArray(primary)) out[k] = primary.length;
    else out[k] = v;
  }
  return out;
}

const kindOf = (v: unknown) => (Array.isArray(v) ? "array" : v === null ? "null" : typeof v);

function itemKeys(schema: Schema | undefined): string[] {
  const items = schema && isObject(schema.items) ? (schema.items as Schema) : undefined;
  return items && isObject(items.properties) ? Object.keys(items.properties) : [];
}

function alignList(
  drawn: unknown[],
  keys: string[],
  args: Record<string, unknown>,
  inputProps: Record<string, Schema>,
): unknown[] | undefined {
  if (keys.length === 0) return undefined;
  // The list argument whose items share fields with the output's items (by schema, so an empty list counts too).
  const source = Object.entries(args).find(
    ([name, a]) =>
      Array.isArray(a) &&
      a.every(isRecord) &&
      [...itemKeys(inputProps[name]), ...a.flatMap((item) => Object.keys(item))].some((k) => keys.includes(k)),
  )?.[1] as Array<Record<string, unknown>> | undefined;
  if (!source) return undefined;
  return source.map((item, i) => {
    const template = isRecord(drawn[i % Math.max(1, drawn.length)])
      ? (drawn[i % drawn.length] as Record<string, unknown>)
      : {};
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      if (k in item) out[k] = item[k];
      else {
        const spare = Object.entries(item).filter(
          ([ik, iv]) => !keys.includes(ik) && (!(k in template) || kindOf(iv) === kindOf(template[k])),
        );
        if (spare.length === 1) out[k] = spare[0]![1];
        else if (k in template) out[k] = template[k];
      }
    }
    return out;
  });
}

const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);
