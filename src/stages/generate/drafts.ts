import { type Scenario } from "../../core/contract.js";
import type { McpTool } from "../../core/toolset.js";
import { drawArgs } from "./args.js";
import { type GenContext, textKey } from "./context.js";
import type { Rng } from "./rng.js";
import { heldOutShare, inValuePool } from "./value-pools.js";
import { drawQuestion } from "./wording/no-tool-bank.js";
import {
  drawWording,
  renderClarifyingQuestion,
  renderOffer,
  renderRequest,
  renderVagueRequest,
  renderWhichTool,
  type Split,
  SYSTEM_VARIANTS,
  type Wording,
} from "./wording/templates.js";

/** A sample before its tool result: the request, the call (if any) and, for no_tool/ambiguous, the reply. */
export interface Draft {
  scenario: Scenario;
  tool?: McpTool;
  args?: Record<string, unknown>;
  user: string;
  reply?: string;
  wording: Wording;
  systemVariant: number;
  /** For offline no_tool drafts: the question family, so variants stay in it. */
  family?: number;
}

const MAX_REDRAWS = 8;

/**
 * Draws a fresh offline draft for a cell. `variantOf` keeps the seed's argument names, tool and
 * scenario, and swaps values and wording: an augmented sample of that seed (in the seed's split).
 */
export function offlineDraft(
  ctx: GenContext,
  scenario: Scenario,
  toolName: string | undefined,
  rng: Rng,
  variantOf?: Draft,
  split: Split = variantOf?.wording.split ?? "train",
): Draft {
  const tool = toolName ? ctx.byName.get(toolName) : undefined;
  let draft: Draft | undefined;
  for (let attempt = 0; attempt < MAX_REDRAWS; attempt++) {
    draft = drawOnce(ctx, scenario, tool, rng, split, variantOf);
    if (claim(ctx, draft.user)) return draft;
  }
  const withContext = { ...draft!, user: `${draft!.user} ${contextClause(rng)}` };
  for (let attempt = 0; attempt < MAX_REDRAWS && !claim(ctx, withContext.user); attempt++) {
    withContext.user = `${draft!.user} ${contextClause(rng)}`;
  }
  return withContext;
}

/**
 * Records a user text as used; false when it already was. Texts count as the same when their words
 * are (case and punctuation aside), as the near-duplicate check sees them.
 */
export function claim(ctx: GenContext, text: string): boolean {
  const key = textKey(text.replace(/[^\p{L}\p{N}]+/gu, " "));
  if (ctx.usedTexts.has(key)) return false;
  ctx.usedTexts.add(key);
  return true;
}

/** Everyday reasons people add to a request; what a repeated request gets rather than made-up filler. */
const CONTEXTS = [
  "Just curious.",
  "It's for my kid's homework.",
  "We were arguing about it at lunch.",
  "Quick question before my meeting.",
  "Asking for a quiz night.",
  "I need it for a presentation later.",
  "No rush.",
  "I'm about to head out.",
  "My manager asked me.",
  "I keep forgetting this.",
  "Need it for an email I'm writing.",
  "Settling a bet here.",
];

export function contextClause(rng: Rng): string {
  return rng.pick(CONTEXTS);
}

function drawOnce(
  ctx: GenContext,
  scenario: Scenario,
  tool: McpTool | undefined,
  rng: Rng,
  split: Split,
  variantOf?: Draft,
): Draft {
  const wording = variantOf
    ? { ...drawWording(rng, split), joiner: variantOf.wording.joiner }
    : drawWording(rng, split);
  const systemVariant = variantOf
    ? (variantOf.systemVariant + 1 + rng.int(0, SYSTEM_VARIANTS - 2)) % SYSTEM_VARIANTS
    : rng.int(0, SYSTEM_VARIANTS - 1);
  if (scenario === "no_tool") {
    const family = variantOf?.family ?? rng.pick(ctx.noToolFamilies);
    const qa = drawQuestion(family, rng, split);
    return { scenario, user: qa.question, reply: qa.answer, wording, systemVariant, family };
  }
  if (!tool) return vagueDraft(ctx, rng, wording, systemVariant);
  const args = drawPooledArgs(ctx, tool, scenario, rng, split, variantOf?.args);
  if (scenario === "ambiguous") {
    const required = (tool.inputSchema.required as string[]).filter((k) => k in args);
    const missing = rng.pick(required);
    const rest = { ...args };
    delete rest[missing];
    return {
      scenario,
      tool,
      user: renderRequest(tool, rest, wording),
      reply: renderClarifyingQuestion(tool, missing, wording),
      wording,
      systemVariant,
    };
  }
  return { scenario, tool, args, user: renderRequest(tool, args, wording), wording, systemVariant };
}

const POOL_DRAWS = { train: 4, eval: 6 };

/**
 * Arguments whose free-text values come from the split's own value pool: training avoids the
 * held-out pool, the held-out split draws a few times and keeps the draw most inside it.
 */
function drawPooledArgs(
  ctx: GenContext,
  tool: McpTool,
  scenario: Scenario,
  rng: Rng,
  split: Split,
  like?: Record<string, unknown>,
): Record<string, unknown> {
  let best: { args: Record<string, unknown>; score: number } | undefined;
  for (let i = 0; i < POOL_DRAWS[split]; i++) {
    const args = drawArgs(ctx, tool, scenario, rng, like);
    const held = heldOutShare(tool, args);
    const score = split === "eval" ? held : 1 - held;
    if (!best || score > best.score) best = { args, score };
    if (split === "train" ? held === 0 : inValuePool(tool, args)) break;
  }
  return best!.args;
}

/** What people call something without saying what they want done with it. */
const VAGUE_TOPICS = [
  "the stuff from yesterday",
  "that thing we talked about",
  "my list",
  "the usual",
  "the records",
  "last week's notes",
  "the project stuff",
  "what I sent you earlier",
];

function vagueDraft(ctx: GenContext, rng: Rng, wording: Wording, systemVariant: number): Draft {
  const topic = rng.pick(VAGUE_TOPICS);
  const [a, b] = rng.shuffle([...ctx.tools]);
  const reply = b ? renderWhichTool(a!, b) : renderOffer(a!);
  return { scenario: "ambiguous", user: renderVagueRequest(topic, wording), reply, wording, systemVariant };
}
