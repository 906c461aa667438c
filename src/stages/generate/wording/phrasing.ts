import type { McpTool } from "../../../core/toolset.js";
import { oneLine } from "../../../core/untrusted-text.js";
import { humanize } from "./text.js";

/** What a tool does, in the everyday terms a request uses. */
export type IntentKind = "find" | "show" | "add" | "remove" | "change" | "do";

export interface Intent {
  kind: IntentKind;
  /** The thing acted on, from the description ("entities in the knowledge graph"). */
  object: string;
  /** For "do": the description's own verb phrase in the imperative ("echo back the input string"). */
  phrase: string;
}

const KIND_OF_VERB: Record<string, IntentKind> = {};
const VERB_KINDS: Array<[IntentKind, string]> = [
  ["find", "search find lookup look query match filter grep locate"],
  [
    "show",
    "get read list show fetch retrieve open view display return describe browse print load download inspect count check",
  ],
  ["add", "create add insert record save store write append register post upload put log make remember"],
  ["remove", "delete remove drop clear purge erase destroy unregister forget"],
  ["change", "update set change edit modify rename move patch replace enable disable configure toggle"],
];
for (const [kind, verbs] of VERB_KINDS) for (const v of verbs.split(" ")) KIND_OF_VERB[v] = kind;

/** Everyday verbs per kind: the lexicon requests draw from (the description's verb is one of them). */
export const LEXICON: Record<Exclude<IntentKind, "do">, string[]> = {
  find: ["find", "look up", "search for", "dig up", "track down"],
  show: ["show me", "list", "give me", "pull up", "display"],
  add: ["add", "record", "save", "create", "store"],
  remove: ["remove", "delete", "drop", "get rid of", "erase"],
  change: ["change", "update", "set", "edit", "modify"],
};

/** "echoes" → "echo", "retrieves" → "retrieve", "queries" → "query": a third-person verb in the imperative. */
function baseVerb(word: string): string {
  const w = word.toLowerCase();
  if (/[^aeiou]ies$/.test(w)) return `${w.slice(0, -3)}y`;
  if (/(ss|sh|ch|x|z|o)es$/.test(w)) return w.slice(0, -2);
  if (/[^su]s$/.test(w)) return w.slice(0, -1);
  return w;
}

const CUT = new Set(
  "based by using with along that which when where if so to for from and or via as whose while but unless including".split(
    " ",
  ),
);
const SKIP_LEAD = new Set("multiple new specific existing several".split(" "));
/** Verbs too general to say what a tool does ("Make line-based edits"): the name's verb decides instead. */
const WEAK = new Set("make do perform run execute use provide".split(" "));

const intents = new WeakMap<McpTool, Intent>();

/** The tool's intent: its kind from the description's first verb (else its name's), its object, its phrase. */
export function intentOf(tool: McpTool): Intent {
  let intent = intents.get(tool);
  if (!intent) intents.set(tool, (intent = readIntent(tool)));
  return intent;
}

function readIntent(tool: McpTool): Intent {
  const description = oneLine(tool.description ?? tool.title ?? "", 300).replace(/[`*_]/g, "");
  const clause = (/^(.+?)(?:[.;:!?,(](?:\s|$)|$)/.exec(description)?.[1] ?? "").trim();
  const words = clause.split(/\s+/).filter(Boolean);
  // "Recursively search …": the verb follows the adverb.
  while (words.length > 1 && /ly$/i.test(words[0]!) && !KIND_OF_VERB[words[0]!.toLowerCase()]) words.shift();
  const nameWords = humanize(tool.name).split(" ");
  const verb = words.length > 0 ? baseVerb(words[0]!) : "";
  let kind = (WEAK.has(verb) ? undefined : KIND_OF_VERB[verb]) ?? KIND_OF_VERB[nameWords[0] ?? ""] ?? "do";
  if (verb === "look" || verb === "search") kind = "find";
  const rest = (
    KIND_OF_VERB[verb] ? words.slice(1) : words.length > 0 && /s$/.test(words[0]!) ? words.slice(1) : words
  ).map((w) => w.replace(/[^\w' -]/g, ""));
  while (rest.length > 0 && ["for", "back", "out"].includes(rest[0]!.toLowerCase())) rest.shift();
  const objectWords: string[] = [];
  for (const word of rest) {
    const lower = word.toLowerCase();
    if (CUT.has(lower) && objectWords.length > 0) break;
    if (objectWords.length === 0 && SKIP_LEAD.has(lower)) continue;
    if (lower) objectWords.push(lower);
    if (objectWords.length >= 8) break;
  }
  while (
    objectWords.length > 1 &&
    ["of", "in", "on", "at", "the", "a", "an", "its", "their"].includes(objectWords[objectWords.length - 1]!)
  )
    objectWords.pop();
  const fromName = nameWords.slice(KIND_OF_VERB[nameWords[0] ?? ""] ? 1 : 0).join(" ");
  const object = objectWords.join(" ") || fromName || humanize(tool.name);
  const phraseWords =
    words.length > 0
      ? [baseVerb(words[0]!), ...words.slice(1, 8).map((w) => w.toLowerCase().replace(/[^\w' -]/g, ""))]
      : nameWords;
  const cut = phraseWords.findIndex((w, i) => i > 1 && CUT.has(w));
  const phrase = (cut > 0 ? phraseWords.slice(0, cut) : phraseWords).join(" ").trim() || humanize(tool.name);
  return { kind, object, phrase };
}

/** A piece of a request: template text (noise may touch it) or an argument value (kept verbatim). */
export type Piece = string | { value: string };

/** "A", "A and B", "A, B and C". */
export function listOf(items: Piece[][]): Piece[] {
  if (items.length === 0) return [];
  const out: Piece[] = [...items[0]!];
  items.slice(1).forEach((item, i) => out.push(i === items.length - 2 ? " and " : ", ", ...item));
  return out;
}

const NAME_KEY = /^(name|title|entity ?name|id|key|label|subject|from|source)$/i;
const TYPE_KEY = /type$/i;
const TO_KEY = /^(to|target|destination)$/i;
const RELATION_KEY = /(relation|predicate|verb)/i;

/** Whether a string reads as a name (Title Case words) rather than free text. */
const isNameLike = (s: string) => /^[A-Z0-9][\w'.&-]*(\s[A-Z0-9][\w'.&-]*)*$/.test(s);

/**
 * A value in words: strings as themselves (free text with spaces in quotes when `quote`), lists as
 * "A, B and C", objects as a clause around their name ("Ada, a person, with observations x and y"),
 * a relation as "from relation to". Never JSON.
 */
export function valueWords(value: unknown, label: string, quote: boolean): Piece[] {
  if (typeof value === "string") {
    if (value.trim() === "") return [`an empty ${label}`];
    return quote && /\s/.test(value) && !isNameLike(value) && !value.includes('"')
      ? ['"', { value }, '"']
      : [{ value }];
  }
  if (typeof value === "number" || typeof value === "bigint") return [{ value: String(value) }];
  if (typeof value === "boolean") return [value ? "yes" : "no"];
  if (value === null || value === undefined) return ["nothing"];
  if (Array.isArray(value)) {
    if (value.length === 0) return [`no ${label}`];
    return listOf(value.map((v) => valueWords(v, singular(label), quote)));
  }
  return objectClause(value as Record<string, unknown>, quote);
}

function objectClause(obj: Record<string, unknown>, quote: boolean): Piece[] {
  const entries = Object.entries(obj);
  if (entries.length === 0) return ["nothing in particular"];
  const from = entries.find(([k]) => /^(from|source)$/i.test(k));
  const to = entries.find(([k]) => TO_KEY.test(k));
  const relation = entries.find(([k, v]) => RELATION_KEY.test(k) && typeof v === "string");
  if (from && to && relation && entries.length === 3) {
    // The relation as words ("reports_to" → "reports to"); the call keeps the identifier.
    return [
      ...valueWords(from[1], "from", false),
      " ",
      { value: humanize(relation[1] as string) },
      " ",
      ...valueWords(to[1], "to", false),
    ];
  }
  const subject = entries.find(([k, v]) => NAME_KEY.test(k) && typeof v === "string");
  const type = entries.find(
    ([k, v]) => k !== subject?.[0] && TYPE_KEY.test(k) && typeof v === "string" && v.trim() !== "",
  );
  const others = entries.filter((e) => e !== subject && e !== type);
  const out: Piece[] = subject ? valueWords(subject[1], humanize(subject[0]), quote) : [];
  // A name and one fact about it reads as a note: "Nadia Rahman: moved to Seville".
  if (
    subject &&
    !type &&
    others.length === 1 &&
    typeof subject[1] === "string" &&
    subject[1].trim() !== "" &&
    typeof others[0]![1] !== "boolean"
  ) {
    return [
      ...valueWords(subject[1], humanize(subject[0]), false),
      ": ",
      ...valueWords(others[0]![1], humanize(others[0]![0]), quote),
    ];
  }
  if (type)
    out.push(
      `${out.length > 0 ? ", " : ""}${/^[aeiou]/i.test(type[1] as string) ? "an" : "a"} `,
      ...valueWords(type[1], humanize(type[0]), false),
    );
  if (others.length > 0) {
    out.push(out.length > 0 ? (type ? ", with " : " with ") : "");
    out.push(...listOf(others.map(([k, v]) => labelled(humanize(k), v, quote))));
  }
  return out;
}

/** "label value", or for a boolean "label: yes" / "label: no". */
export function labelled(label: string, value: unknown, quote: boolean): Piece[] {
  if (typeof value === "boolean") return [`${label}: ${value ? "yes" : "no"}`];
  if (Array.isArray(value) && value.length === 0) return [`no ${label}`];
  if (typeof value === "string" && value.trim() === "") return [`an empty ${label}`];
  return [`${label} `, ...valueWords(value, label, quote)];
}

export function singular(word: string): string {
  if (/ies$/.test(word)) return `${word.slice(0, -3)}y`;
  if (/(ss|us)$/.test(word)) return word;
  if (/(ch|sh|x|ss)es$/.test(word)) return word.slice(0, -2);
  return word.replace(/s$/, "");
}

export function plural(word: string, n: number): string {
  if (n === 1) return singular(word);
  if (/s$/.test(word)) return word;
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  return /(ch|sh|x|s)$/.test(word) ? `${word}es` : `${word}s`;
}

/** For a search, the parameter holding what is sought. */
const SOUGHT = /^(q|query|pattern|search|keywords?|term|text|regex)$/i;

/**
 * The argument a request is about: the first required string-like one (a query, a name, a path),
 * said right after the verb; the others follow as "label value" clauses.
 */
export function primaryKey(tool: McpTool, args: Record<string, unknown>): string | undefined {
  const required = Array.isArray(tool.inputSchema.required) ? (tool.inputSchema.required as string[]) : [];
  const keys = Object.keys(args);
  const sought =
    intentOf(tool).kind === "find" ? keys.find((k) => SOUGHT.test(k) && typeof args[k] === "string") : undefined;
  if (sought) return sought;
  const stringy = (k: string) => typeof args[k] === "string" || Array.isArray(args[k]);
  return (
    keys.find((k) => required.includes(k) && stringy(k)) ??
    keys.find((k) => required.includes(k)) ??
    (keys.length === 1 ? keys[0] : undefined)
  );
}
