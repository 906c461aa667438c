import type { McpTool } from "../core/toolset.js";
import type { Rng } from "./rng.js";
import { actionOf, formatValue, labelOf, oneLine, purposeOf } from "./text.js";

/** Choices that fix a request's wording; augmentation redraws some of them for paraphrases. */
export interface Wording {
  opener: number;
  joiner: number;
  closer: number;
  answer: number;
}

export function drawWording(rng: Rng): Wording {
  return {
    opener: rng.int(0, OPENERS.length - 1),
    joiner: rng.int(0, JOINERS.length - 1),
    closer: rng.int(0, CLOSERS.length - 1),
    answer: rng.int(0, 1000),
  };
}

const OPENERS: Array<(action: string, tool: McpTool) => [string, string]> = [
  (a) => [`Please ${a}`, "."],
  (a) => [`Can you ${a}`, "?"],
  (a) => [`Could you ${a}`, "?"],
  (a) => [`I need you to ${a}`, "."],
  (a) => [`Go ahead and ${a}`, "."],
  (a) => [`I'd like you to ${a}`, "."],
  (a) => [`Help me ${a}`, "."],
  (a) => [`${a.charAt(0).toUpperCase()}${a.slice(1)}`, ", please."],
  (a) => [`Would you ${a}`, "?"],
  (a) => [`Quick request: ${a}`, "."],
  (_a, t) => [`Use ${t.name}`, "."],
  (_a, t) => [`Run ${t.name}`, ", please."],
];

type Pair = [label: string, value: string];
const list = (items: string[]) =>
  items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;

const JOINERS: Array<(pairs: Pair[]) => string> = [
  (p) => ` with ${list(p.map(([l, v]) => `${l} ${v}`))}`,
  (p) => ` where ${list(p.map(([l, v]) => `${l} is ${v}`))}`,
  (p) => ` using ${p.map(([l, v]) => `${l} = ${v}`).join(", ")}`,
  (p) => ` (${p.map(([l, v]) => `${l}: ${v}`).join("; ")})`,
  (p) => ` for ${list(p.map(([l, v]) => `${l} ${v}`))}`,
  (p) => `, setting ${list(p.map(([l, v]) => `${l} to ${v}`))}`,
];

const CLOSERS = ["", "", "", " Thanks!", " Thank you.", " I need it soon.", " Appreciate it.", " Cheers."];

/** Top-level arguments as (label, value) pairs in the order given; nested values stay whole, as JSON. */
export function argPairs(tool: McpTool, args: Record<string, unknown>): Pair[] {
  return Object.entries(args).map(([k, v]) => [labelOf(tool, k), formatValue(v)]);
}

/** A user request that names the tool's action and every argument value verbatim. */
export function renderRequest(tool: McpTool, args: Record<string, unknown>, w: Wording): string {
  const [head, end] = OPENERS[w.opener % OPENERS.length]!(actionOf(tool), tool);
  const pairs = argPairs(tool, args);
  const clause = pairs.length > 0 ? JOINERS[w.joiner % JOINERS.length]!(pairs) : "";
  return `${head}${clause}${end}${CLOSERS[w.closer % CLOSERS.length]}`;
}

/** The answer after a successful call: it reports the result and adds nothing of its own. */
export function renderAnswer(tool: McpTool, result: string, w: Wording): string {
  const snippet = oneLine(result, 300) || "(no output)";
  const forms = [
    `Here is what ${tool.name} returned: ${snippet}`,
    `Done. The result is: ${snippet}`,
    `${tool.name} gave this result: ${snippet}`,
    `I ran ${tool.name}. Result: ${snippet}`,
  ];
  return forms[w.answer % forms.length]!;
}

/** The answer after an error result: honest, and no invented data. */
export function renderErrorAnswer(tool: McpTool, error: string, w: Wording): string {
  const reason = oneLine(error, 200) || "an unknown error";
  const forms = [
    `I called ${tool.name}, but it returned an error: ${reason} I don't have a result, so I won't guess one. You could check the details and try again.`,
    `Sorry, ${tool.name} failed with: ${reason} Without a result I can't answer that; please try again or adjust the request.`,
    `The ${tool.name} call did not succeed (${reason}). I have no data to report rather than making something up.`,
  ];
  return forms[w.answer % forms.length]!;
}

/** One clarifying question for a missing required argument. */
export function renderClarifyingQuestion(tool: McpTool, missing: string, w: Wording): string {
  const schema = (tool.inputSchema.properties as Record<string, { description?: unknown }> | undefined)?.[missing];
  const label = labelOf(tool, missing);
  const hint = typeof schema?.description === "string" ? oneLine(schema.description, 80) : "";
  const about = hint && hint.replace(/[.?!]+$/, "").toLowerCase() !== label ? ` (${hint.replace(/[.?!]+$/, "")})` : "";
  const forms = [
    `Sure. Which ${label} should I use${about}?`,
    `I can ${actionOf(tool)} for you. What ${label} do you want${about}?`,
    `Happy to help. Could you tell me the ${label}${about}?`,
  ];
  return forms[w.answer % forms.length]!;
}

/** A request that fits two tools, for toolsets where no tool has a required argument. */
export function renderVagueRequest(topic: string, w: Wording): string {
  const forms = [`Can you help me with ${topic}?`, `I need something done about ${topic}.`, `Do the thing for ${topic}, please.`];
  return forms[w.opener % forms.length]! + CLOSERS[w.closer % CLOSERS.length]!;
}

export function renderWhichTool(a: McpTool, b: McpTool): string {
  return `Do you want me to ${actionOf(a)} or ${actionOf(b)}?`;
}

const SYSTEM_FORMS: Array<(lines: string, server: string) => string> = [
  (l) => `You are a helpful assistant that can call tools.\nTools:\n${l}\nCall a tool when the request needs one, answer directly otherwise, and ask when a required detail is missing.`,
  (l, s) => `You are an assistant connected to the ${s} tools.\n${l}\nUse a tool only when it is needed. If something required is missing, ask one question.`,
  (l) => `Available tools:\n${l}\nAnswer the user. Call a tool when it helps; never invent tool results.`,
  (l) => `You help users by calling the tools below when their request needs them.\n${l}`,
];

export const SYSTEM_VARIANTS = SYSTEM_FORMS.length;

/** The system prompt: each tool's purpose in one line (the chat template adds the full schemas). */
export function renderSystemPrompt(tools: readonly McpTool[], serverName: string, variant: number): string {
  const lines = tools.map((t) => `- ${t.name}: ${purposeOf(t)}`).join("\n");
  return SYSTEM_FORMS[variant % SYSTEM_FORMS.length]!(lines, oneLine(serverName, 60) || "available");
}
