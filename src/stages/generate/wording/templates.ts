import type { McpTool } from "../../../core/toolset.js";
import { oneLine } from "../../../core/untrusted-text.js";
import type { Rng } from "../rng.js";
import { describeResult, errorAdvice, errorReason } from "./answers.js";
import { type Intent, intentOf, labelled, LEXICON, listOf, type Piece, primaryKey, valueWords } from "./phrasing.js";
import { humanize, labelOf, purposeOf } from "./text.js";

/**
 * Which split a request is written for. The held-out split has sentence frames, joiners and
 * closers of its own that training never sees, so the release gate measures unseen phrasing.
 */
export type Split = "train" | "eval";

/** Choices that fix a request's wording; augmentation redraws some of them for paraphrases. */
export interface Wording {
  split: Split;
  frame: number;
  verb: number;
  target: number;
  joiner: number;
  closer: number;
  answer: number;
  /** Casing and typo noise: which (if any) and where. */
  noise: number;
  /** Whether free text with spaces is quoted. */
  quote: boolean;
  /** Whether the request names the tool by its identifier (a small share of training requests). */
  named: boolean;
}

/** Share of training requests that name the tool's identifier (QC allows up to qa.maxToolNameInUser). */
const NAMED_SHARE = 0.03;

export function drawWording(rng: Rng, split: Split = "train"): Wording {
  return {
    split,
    frame: rng.int(0, 9999),
    verb: rng.int(0, 999),
    target: rng.int(0, 999),
    joiner: rng.int(0, 999),
    closer: rng.int(0, 999),
    answer: rng.int(0, 999),
    noise: rng.int(0, 999),
    quote: rng.bool(0.6),
    named: split === "train" && rng.bool(NAMED_SHARE),
  };
}

type Shape = "imperative" | "question" | "need" | "indirect" | "terse" | "statement" | "named";

/**
 * A sentence frame: {core} is the verb phrase with its object ({Core} capitalised), {with} the
 * other arguments, {X} the main argument, {obj} what the tool acts on, {tool} its identifier.
 * `self` frames have the user as the actor ("I need to …"), so "show me" becomes "see".
 */
interface Frame {
  shape: Shape;
  text: string;
  held?: boolean;
  self?: boolean;
  /** Only for these intents (default: any); "needsX": only when there is a main argument. */
  kinds?: Intent["kind"][];
  needsX?: boolean;
  noCloser?: boolean;
}

const FRAMES: Frame[] = [
  { shape: "imperative", text: "{Core}{with}." },
  { shape: "imperative", text: "Please {core}{with}." },
  { shape: "imperative", text: "{Core}{with}, please." },
  { shape: "imperative", text: "Go ahead and {core}{with}.", held: true },
  { shape: "imperative", text: "Kindly {core}{with}.", held: true },
  { shape: "question", text: "Can you {core}{with}?" },
  { shape: "question", text: "Could you {core}{with}?" },
  { shape: "question", text: "Will you {core}{with}?" },
  { shape: "question", text: "Any chance you could {core}{with}?", held: true },
  { shape: "question", text: "Mind if I ask you to {core}{with}?", held: true },
  { shape: "need", text: "I need you to {core}{with}." },
  { shape: "need", text: "I want you to {core}{with}." },
  { shape: "need", text: "I need to {core}{with}.", self: true },
  { shape: "need", text: "I'd like to {core}{with}.", self: true, held: true },
  { shape: "need", text: "What I need is to {core}{with}.", self: true, held: true },
  { shape: "indirect", text: "I was wondering if you could {core}{with}." },
  { shape: "indirect", text: "It would help if you could {core}{with}." },
  { shape: "indirect", text: "If you can, {core}{with}." },
  { shape: "indirect", text: "Is it possible to {core}{with}?", self: true, held: true },
  { shape: "indirect", text: "Would it be possible to {core}{with}?", self: true, held: true },
  { shape: "terse", text: "{core}{with}", noCloser: true },
  { shape: "terse", text: "{core}{with} pls", noCloser: true },
  { shape: "terse", text: "{core}{with}?", noCloser: true },
  { shape: "terse", text: "{core}{with} asap", noCloser: true, held: true },
  { shape: "terse", text: "quick one: {core}{with}", noCloser: true, held: true },
  { shape: "question", text: "Do you have anything on {X}{with}?", kinds: ["find"], needsX: true },
  { shape: "question", text: "Is there anything about {X}{with}?", kinds: ["find"], needsX: true },
  { shape: "terse", text: "results for {X}{with}?", kinds: ["find"], needsX: true, noCloser: true },
  { shape: "question", text: "What do we have on {X}{with}?", kinds: ["find"], needsX: true, held: true },
  { shape: "question", text: "What's in {obj}{with}?", kinds: ["show"] },
  { shape: "question", text: "What does {obj} look like{with}?", kinds: ["show"], held: true },
  { shape: "statement", text: "{X}{with}.", kinds: ["add"], needsX: true },
  { shape: "statement", text: "Note that {X}{with}.", kinds: ["add"], needsX: true },
  { shape: "statement", text: "FYI: {X}{with}.", kinds: ["add"], needsX: true },
  { shape: "statement", text: "Just so you know, {X}{with}.", kinds: ["add"], needsX: true, held: true },
  { shape: "statement", text: "For the record: {X}{with}.", kinds: ["add"], needsX: true, held: true },
  { shape: "imperative", text: "Forget {X}{with}.", kinds: ["remove"], needsX: true },
  { shape: "imperative", text: "{X}{with} can go, drop it.", kinds: ["remove"], needsX: true, held: true },
  { shape: "named", text: "Use {tool} to {core}{with}." },
  { shape: "named", text: "{Core}{with} with {tool}." },
];

const JOINERS: Array<{ text: string; held?: boolean }> = [
  { text: " with {list}" },
  { text: ", {list}" },
  { text: " ({list})" },
  { text: " using {list}" },
  { text: "; {list}", held: true },
  { text: " - {list}", held: true },
];
const CLOSERS: Array<{ text: string; held?: boolean }> = [
  { text: "" },
  { text: "" },
  { text: "" },
  { text: " Thanks!" },
  { text: " Thank you." },
  { text: " Cheers." },
  { text: " Much appreciated.", held: true },
  { text: " Ta.", held: true },
];

const inSplit = <T extends { held?: boolean }>(items: T[], split: Split) =>
  items.filter((i) => (split === "eval") === (i.held === true));
const SELF_VERBS: Record<string, string> = { "show me": "see", "give me": "get", "pull up": "look at" };
const PATH_LIKE = /(path|dir|folder|file|uri|url)/i;

/** The verb phrase with its object: "look up Ada", "show me the entire knowledge graph". */
function core(intent: Intent, x: Piece[] | undefined, xLabel: string, w: Wording, self: boolean): Piece[] {
  if (intent.kind === "do") {
    if (!x) return [intent.phrase];
    const forms: Piece[][] = [
      [`${intent.phrase} for `, ...x],
      [`${intent.phrase}: `, ...x],
      [`${intent.phrase} with ${xLabel} `, ...x],
    ];
    return forms[w.target % forms.length]!;
  }
  const lexicon = LEXICON[intent.kind];
  let verb = lexicon[w.verb % lexicon.length]!;
  if (self) verb = SELF_VERBS[verb] ?? verb;
  if (!x) return [`${verb} ${intent.object}`];
  const prep = PATH_LIKE.test(xLabel) ? "at" : intent.kind === "find" ? "matching" : "for";
  const forms: Piece[][] =
    intent.kind === "find" || intent.kind === "remove" || intent.kind === "add"
      ? [
          [`${verb} `, ...x],
          [`${verb} `, ...x],
          [`${verb} ${intent.object}${intent.kind === "find" ? " matching" : ":"} `, ...x],
        ]
      : [
          [`${verb} ${intent.object} ${prep} `, ...x],
          [`${verb} ${intent.object}, ${xLabel} `, ...x],
        ];
  return forms[w.target % forms.length]!;
}

/** The pieces of a request: template text and argument values, values kept apart so noise never touches them. */
function requestPieces(tool: McpTool, args: Record<string, unknown>, w: Wording): Piece[] {
  const intent = intentOf(tool);
  const key = primaryKey(tool, args);
  const xLabel = key ? labelOf(tool, key) : "";
  const x = key !== undefined ? valueWords(args[key], xLabel, w.quote) : undefined;
  const others = Object.keys(args).filter((k) => k !== key);
  const frames = w.named
    ? FRAMES.filter((f) => f.shape === "named")
    : inSplit(FRAMES, w.split).filter(
        (f) =>
          f.shape !== "named" &&
          fits(f, intent, x !== undefined) &&
          !(f.kinds?.includes("add") && !isFactual(args[key ?? ""])),
      );
  const frame = frames[w.frame % frames.length]!;
  const joiner = inSplit(JOINERS, w.split)[w.joiner % inSplit(JOINERS, w.split).length]!.text;
  const closers = inSplit(CLOSERS, w.split);
  const closer = frame.noCloser ? "" : closers[w.closer % closers.length]!.text;
  const withPieces =
    others.length > 0
      ? splitAt(joiner, "{list}", listOf(others.map((k) => labelled(labelOf(tool, k), args[k], w.quote))))
      : [];
  const corePieces = core(intent, x, xLabel, w, frame.self === true);
  const out: Piece[] = [];
  for (const part of frame.text.split(/(\{\w+\})/)) {
    if (part === "{core}") out.push(...corePieces);
    else if (part === "{Core}") out.push(...capitalise(corePieces));
    else if (part === "{with}") out.push(...withPieces);
    else if (part === "{X}") out.push(...(frame.text.startsWith("{X}") ? capitalise(x ?? []) : (x ?? [])));
    else if (part === "{obj}") out.push(intent.object);
    else if (part === "{tool}") out.push(tool.name);
    else if (part) out.push(part);
  }
  if (closer) out.push(closer);
  return out;
}

/** Whether a frame suits the intent, and says the main argument when there is one. */
function fits(f: Frame, intent: Intent, hasX: boolean): boolean {
  if (f.kinds && !f.kinds.includes(intent.kind)) return false;
  if (f.needsX && !hasX) return false;
  return !hasX || /\{(core|Core|X)\}/.test(f.text);
}

/** A value that states facts (objects, or a list of them): "Ada, a person, with observations …". */
const isFactual = (v: unknown) =>
  Array.isArray(v) ? v.length > 0 && v.every((i) => i && typeof i === "object") : !!v && typeof v === "object";

function splitAt(text: string, slot: string, fill: Piece[]): Piece[] {
  const [head, tail] = text.split(slot) as [string, string];
  return [head, ...fill, tail].filter((p) => p !== "");
}

function capitalise(pieces: Piece[]): Piece[] {
  const [first, ...rest] = pieces;
  if (typeof first !== "string" || first === "") return pieces;
  return [first.charAt(0).toUpperCase() + first.slice(1), ...rest];
}

/** Casing and typo noise on the template text only: a share lowercased without the final period, a share with one typo. */
function withNoise(pieces: Piece[], w: Wording): string {
  const mode = w.noise % 100;
  const lower = mode < 12;
  const typo = mode >= 12 && mode < 20;
  const texts = pieces.map((p) => (typeof p === "string" ? (lower ? p.toLowerCase() : p) : p));
  if (typo) {
    const words = texts.flatMap((p, i) =>
      typeof p === "string" ? [...p.matchAll(/[a-z]{4,}/g)].map((m) => ({ i, at: m.index })) : [],
    );
    const pick = words[w.noise % Math.max(1, words.length)];
    if (pick) {
      const s = texts[pick.i] as string;
      const at = pick.at + 1;
      texts[pick.i] = `${s.slice(0, at)}${s[at + 1]}${s[at]}${s.slice(at + 2)}`;
    }
  }
  let text = texts.map((p) => (typeof p === "string" ? p : p.value)).join("");
  if (lower && typeof pieces[pieces.length - 1] === "string") text = text.replace(/\.$/, "");
  return text;
}

/** A user request as people write it: the action in everyday words, values in words, no JSON. */
export function renderRequest(tool: McpTool, args: Record<string, unknown>, w: Wording): string {
  return withNoise(requestPieces(tool, args, w), w);
}

/** The plain verb of each intent, for answers ("I tried to look up …"). */
const PLAIN: Record<Exclude<Intent["kind"], "do">, string> = {
  find: "look up",
  show: "get",
  add: "add",
  remove: "remove",
  change: "update",
};

/** What the call acted on, in words: the main argument's value when it is short plain text. */
function subjectOf(tool: McpTool, args: Record<string, unknown>): string | undefined {
  const key = primaryKey(tool, args);
  const words = key !== undefined ? valueWords(args[key], labelOf(tool, key), false) : [];
  const text = words.map((p) => (typeof p === "string" ? p : p.value)).join("");
  return text && text.length <= 80 && !/[{}[\]\n]/.test(text) && !/^(no|an empty) /.test(text) ? text : undefined;
}

/** The answer after a successful call: what happened, in words, from the result itself (for a change, from the call). */
export function renderAnswer(tool: McpTool, result: string, w: Wording, args: Record<string, unknown> = {}): string {
  const intent = intentOf(tool);
  if (intent.kind === "add" || intent.kind === "remove" || intent.kind === "change")
    return changeAnswer(tool, intent.kind, result, w, args);
  const summary = describeResult(result);
  const subject = subjectOf(tool, args);
  const target = subject ? `${intent.object} for ${subject}` : intent.object;
  const lead: Record<"find" | "show" | "do", string[]> = {
    find: [`I searched ${target}.`, subject ? `Here's what I found for ${subject}.` : "Here's what I found.", ""],
    show: ["", `Here's ${intent.object}.`, subject ? `I checked ${subject}.` : ""],
    do: ["Done.", subject ? `I ran it for ${subject}.` : "", ""],
  };
  const head = lead[intent.kind][w.answer % lead[intent.kind].length]!;
  return head ? `${head} ${summary}` : summary;
}

type ChangeKind = "add" | "remove" | "change";

/** What a state-changing call acted on, in words: names, or relations as "Ann knows Bob", and whether the names are what changed or only where. */
interface Acted {
  items: string[];
  relations: boolean;
  /** The names are what the change was made to ("the observations for Ann"), not the things changed. */
  owners: boolean;
}

const OWN_NAME = /^(name|title|path|id|key|label|uri|url)$/i;
const REF_NAME = /(name|id)$/i;

function actedOn(value: unknown): Acted | undefined {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) return undefined;
  if (list.every((v) => typeof v === "string" || typeof v === "number"))
    return { items: list.map(String), relations: false, owners: false };
  if (!list.every((v) => v && typeof v === "object" && !Array.isArray(v))) return undefined;
  const objects = list as Array<Record<string, unknown>>;
  if (objects.every((o) => typeof o.from === "string" && typeof o.to === "string")) {
    return {
      items: objects
        .map((o) => [
          o.from,
          Object.entries(o).find(([k, v]) => /relation|type/i.test(k) && typeof v === "string")?.[1],
          o.to,
        ])
        .map(([a, r, b]) => (r ? `${a} ${humanize(String(r))} ${b}` : `${a} and ${b}`)),
      relations: true,
      owners: false,
    };
  }
  const key =
    Object.keys(objects[0]!).find((k) => OWN_NAME.test(k)) ?? Object.keys(objects[0]!).find((k) => REF_NAME.test(k));
  if (!key || !objects.every((o) => typeof o[key] === "string")) return undefined;
  return { items: objects.map((o) => o[key] as string), relations: false, owners: !OWN_NAME.test(key) };
}

const be = (n: number) => (n === 1 ? "is" : "are");

/** Up to four items, then how many more: "A, B and C". */
function itemList(items: string[]): string {
  const shown = items.slice(0, 4).map((s) => oneLine(s, 60));
  if (items.length > shown.length) return `${shown.join(", ")} and ${items.length - shown.length} more`;
  return shown.length === 1 ? shown[0]! : `${shown.slice(0, -1).join(", ")} and ${shown[shown.length - 1]}`;
}

/**
 * The answer after a state-changing call: what was done, with the request's own values ("I've
 * added Ann and Bob", "Removed the relation Ann knows Bob"); a result that names fewer than were
 * sent says which were already there. Never a listing read back as "found".
 */
function changeAnswer(
  tool: McpTool,
  kind: ChangeKind,
  result: string,
  w: Wording,
  args: Record<string, unknown>,
): string {
  const key = primaryKey(tool, args);
  const value = key !== undefined ? args[key] : undefined;
  if (Array.isArray(value) && value.length === 0) return `There was nothing to ${PLAIN[kind]}, so nothing changed.`;
  const acted = actedOn(value);
  const object = intentOf(tool).object;
  let forms: string[];
  if (!acted) {
    forms = {
      add: ["Done, it's saved.", "Saved.", "I've recorded that."],
      remove: ["Done, it's removed.", "Removed.", "I deleted it."],
      change: ["Done, it's updated.", "Updated.", "The change is made."],
    }[kind];
  } else {
    const s = itemList(acted.items);
    const n = acted.items.length;
    if (acted.owners) {
      const prep = kind === "remove" ? "from" : "for";
      forms = [
        `I've ${PAST_OF[kind]} the ${object} ${prep} ${s}.`,
        `Done: the ${object} ${prep} ${s} ${kind === "remove" ? "are gone" : "are saved"}.`,
      ];
    } else if (acted.relations) {
      const noun = n === 1 ? "relation" : "relations";
      forms = {
        add: [`I've noted that ${s}.`, `Recorded: ${s}.`, `Done, the ${noun} ${s} ${be(n)} saved.`],
        remove: [
          `Removed the ${noun} ${s}.`,
          `Done, the ${noun} ${s} ${be(n)} gone.`,
          `I've deleted the ${noun} ${s}.`,
        ],
        change: [`I've updated the ${noun} ${s}.`, `Updated: ${s}.`],
      }[kind];
    } else {
      forms = {
        add: [`I've added ${s}.`, `Done, ${s} ${be(n)} saved.`, `Saved ${s}.`],
        remove: [`I've removed ${s}.`, `Done, ${s} ${be(n)} gone.`, `Deleted ${s}.`],
        change: [`I've updated ${s}.`, `Done, ${s} ${be(n)} updated.`, `Updated ${s}.`],
      }[kind];
    }
    if (kind === "add" && !acted.relations && !acted.owners) {
      const skipped = alreadyThere(result, acted.items);
      if (skipped.length > 0 && skipped.length < n)
        return `I've added ${itemList(acted.items.filter((i) => !skipped.includes(i)))}; ${itemList(skipped)} ${skipped.length === 1 ? "was" : "were"} already there.`;
      if (skipped.length === n)
        return `${itemList(skipped)} ${skipped.length === 1 ? "was" : "were"} already there, so nothing changed.`;
    }
  }
  const head = forms[w.answer % forms.length]!;
  const said = resultSays(result);
  return said ? `${head} ${said}` : head;
}

const PAST_OF: Record<ChangeKind, string> = { add: "added", remove: "removed", change: "updated" };

/** For a JSON result that lists what was added: the requested names it leaves out (they existed already). */
function alreadyThere(result: string, items: string[]): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(result);
  } catch {
    return [];
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return [];
  const list = Object.values(parsed as Record<string, unknown>).find((v): v is unknown[] => Array.isArray(v));
  if (!list) return [];
  const named = new Set(
    list
      .map((v) =>
        v && typeof v === "object"
          ? Object.values(v as Record<string, unknown>).find((x) => typeof x === "string" && items.includes(x))
          : v,
      )
      .filter((v): v is string => typeof v === "string"),
  );
  return items.filter((i) => !named.has(i));
}

/** What a plain-text result adds to the answer: nothing for JSON or a bare confirmation, else the result in words. */
function resultSays(result: string): string {
  const text = result.trim();
  if (
    text === "" ||
    /^[[{]/.test(text) ||
    /^(successfully|success|done|ok|added|created|deleted|removed|updated|saved)\b/i.test(text)
  )
    return "";
  return describeResult(text);
}

/** The answer after an error result: what failed, why in short, and what to do; no invented data. */
export function renderErrorAnswer(
  tool: McpTool,
  error: string,
  w: Wording,
  args: Record<string, unknown> = {},
): string {
  const intent = intentOf(tool);
  const reason = errorReason(error);
  const key = primaryKey(tool, args);
  const advice = errorAdvice(error, key ? labelOf(tool, key) : undefined);
  const subject = subjectOf(tool, args);
  const action = intent.kind === "do" ? intent.phrase : `${PLAIN[intent.kind]} ${subject ?? intent.object}`;
  const forms = [
    `I tried to ${action}, but it failed: ${reason}. ${advice}`,
    `That didn't work: ${reason}. ${advice}`,
    `Sorry, I couldn't ${action} (${reason}). I won't guess a result. ${advice}`,
  ];
  return forms[w.answer % forms.length]!;
}

/** One clarifying question for a missing required argument. */
export function renderClarifyingQuestion(tool: McpTool, missing: string, w: Wording): string {
  const schema = (tool.inputSchema.properties as Record<string, { description?: unknown }> | undefined)?.[missing];
  const label = labelOf(tool, missing);
  const hint = typeof schema?.description === "string" ? oneLine(schema.description, 80) : "";
  const about = hint && hint.replace(/[.?!]+$/, "").toLowerCase() !== label ? ` (${hint.replace(/[.?!]+$/, "")})` : "";
  const intent = intentOf(tool);
  const action = intent.kind === "do" ? intent.phrase : `${PLAIN[intent.kind]} ${intent.object}`;
  const forms = [
    `Sure. Which ${label} should I use${about}?`,
    `I can ${action} for you. What ${label} do you want${about}?`,
    `Happy to help. Could you tell me the ${label}${about}?`,
  ];
  return forms[w.answer % forms.length]!;
}

/** A request that fits two tools, for toolsets where no tool has a required argument. */
export function renderVagueRequest(topic: string, w: Wording): string {
  const forms = [
    `Can you help me with ${topic}?`,
    `I need a hand with ${topic}.`,
    `Could you sort out ${topic}, please?`,
  ];
  const closers = inSplit(CLOSERS, w.split);
  return forms[w.frame % forms.length]! + closers[w.closer % closers.length]!.text;
}

const offerOf = (t: McpTool) => {
  const i = intentOf(t);
  return i.kind === "do" ? i.phrase : `${PLAIN[i.kind]} ${i.object}`;
};

export function renderWhichTool(a: McpTool, b: McpTool): string {
  return `Do you want me to ${offerOf(a)} or ${offerOf(b)}?`;
}

/** The reply to a vague request when only one tool could be meant. */
export function renderOffer(tool: McpTool): string {
  return `Do you want me to ${offerOf(tool)}? Tell me what it should be for.`;
}

const SYSTEM_FORMS: Array<(lines: string, server: string) => string> = [
  (l) =>
    `You are a helpful assistant that can call tools.\nTools:\n${l}\nCall a tool when the request needs one, answer directly otherwise, and ask when a required detail is missing.`,
  (l, s) =>
    `You are an assistant connected to the ${s} tools.\n${l}\nUse a tool only when it is needed. If something required is missing, ask one question.`,
  (l) => `Available tools:\n${l}\nAnswer the user. Call a tool when it helps; never invent tool results.`,
  (l) => `You help users by calling the tools below when their request needs them.\n${l}`,
];

export const SYSTEM_VARIANTS = SYSTEM_FORMS.length;

/** The system prompt: each tool's purpose in one line (the chat template adds the full schemas). */
export function renderSystemPrompt(tools: readonly McpTool[], serverName: string, variant: number): string {
  const lines = tools.map((t) => `- ${t.name}: ${purposeOf(t)}`).join("\n");
  return SYSTEM_FORMS[variant % SYSTEM_FORMS.length]!(lines, oneLine(serverName, 60) || "available");
}
