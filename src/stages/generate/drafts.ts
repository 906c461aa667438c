import type { McpTool } from "../../core/toolset.js";
import { drawQuestion } from "../../data/no-tool-bank.js";
import type { Rng } from "../../data/rng.js";
import type { Scenario } from "../../data/sample.js";
import { ArgumentError, withFaker, type ArgGenerator } from "../../data/schema-args.js";
import { badInput } from "../../core/errors.js";
import {
  drawWording,
  renderClarifyingQuestion,
  renderRequest,
  renderVagueRequest,
  renderWhichTool,
  SYSTEM_VARIANTS,
  type Wording,
} from "../../data/templates.js";
import { actionOf } from "../../data/text.js";
import { textKey, type GenContext } from "./context.js";

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
 * scenario, and swaps values and wording: an augmented sample of that seed.
 */
export function offlineDraft(ctx: GenContext, scenario: Scenario, toolName: string | undefined, rng: Rng, variantOf?: Draft): Draft {
  const tool = toolName ? ctx.byName.get(toolName) : undefined;
  let draft: Draft | undefined;
  for (let attempt = 0; attempt < MAX_REDRAWS; attempt++) {
    draft = drawOnce(ctx, scenario, tool, rng, variantOf);
    if (claim(ctx, draft.user)) return draft;
  }
  const withContext = { ...draft!, user: `${draft!.user} ${contextClause(rng)}` };
  for (let attempt = 0; attempt < MAX_REDRAWS && !claim(ctx, withContext.user); attempt++) {
    withContext.user = `${draft!.user} ${contextClause(rng)}`;
  }
  return withContext;
}

/** Records a user text as used; false when it already was. */
export function claim(ctx: GenContext, text: string): boolean {
  const key = textKey(text);
  if (ctx.usedTexts.has(key)) return false;
  ctx.usedTexts.add(key);
  return true;
}

export function contextClause(rng: Rng): string {
  return withFaker(rng, (f) => rng.pick([`It's for the ${f.word.adjective()} ${f.word.noun()} project.`, `This is for my ${f.word.noun()} notes.`, `(${f.word.adjective()} ${f.word.noun()} task)`]));
}

function drawOnce(ctx: GenContext, scenario: Scenario, tool: McpTool | undefined, rng: Rng, variantOf?: Draft): Draft {
  const wording = variantOf ? { ...drawWording(rng), joiner: variantOf.wording.joiner } : drawWording(rng);
  const systemVariant = variantOf ? (variantOf.systemVariant + 1 + rng.int(0, SYSTEM_VARIANTS - 2)) % SYSTEM_VARIANTS : rng.int(0, SYSTEM_VARIANTS - 1);
  if (scenario === "no_tool") {
    const family = variantOf?.family ?? rng.pick(ctx.noToolFamilies);
    const qa = drawQuestion(family, rng);
    return { scenario, user: qa.question, reply: qa.answer, wording, systemVariant, family };
  }
  if (!tool) return vagueDraft(ctx, rng, wording, systemVariant);
  const args = drawArgs(ctx, tool, scenario, rng, variantOf?.args);
  if (scenario === "ambiguous") {
    const required = (tool.inputSchema.required as string[]).filter((k) => k in args);
    const missing = rng.pick(required);
    const rest = { ...args };
    delete rest[missing];
    return { scenario, tool, user: renderRequest(tool, rest, wording), reply: renderClarifyingQuestion(tool, missing, wording), wording, systemVariant };
  }
  return { scenario, tool, args, user: renderRequest(tool, args, wording), wording, systemVariant };
}

/** Arguments for a call; for a variant, new values under the seed's argument names where the schema allows. */
export function drawArgs(ctx: GenContext, tool: McpTool, scenario: Scenario, rng: Rng, like?: Record<string, unknown>): Record<string, unknown> {
  const gen = ctx.generators.get(tool.name)!;
  const mode = scenario === "edge" ? "edge" : "standard";
  try {
    return withObservedPaths(ctx, tool, drawWith(gen, rng, mode, like), rng);
  } catch (error) {
    if (!(error instanceof ArgumentError)) throw error;
    throw badInput(`tool "${tool.name}": cannot generate arguments valid for its inputSchema: ${error.message}`, "check the schema for contradictions (e.g. minimum above maximum, a pattern that excludes every allowed length)");
  }
}

const PATH_PARAM = /(path|dir|folder|file|source|destination)/i;

/** With a live server, path arguments often take a path the server has shown (a listed directory), so calls can succeed. */
function withObservedPaths(ctx: GenContext, tool: McpTool, args: Record<string, unknown>, rng: Rng): Record<string, unknown> {
  if (ctx.observedPaths.length === 0) return args;
  const props = (tool.inputSchema.properties ?? {}) as Record<string, { pattern?: unknown; format?: unknown; enum?: unknown }>;
  const out = { ...args };
  for (const [key, value] of Object.entries(args)) {
    const schema = props[key];
    if (!PATH_PARAM.test(key) || !schema || schema.pattern || schema.format || schema.enum) continue;
    if (typeof value === "string" && rng.bool(0.6)) out[key] = rng.pick(ctx.observedPaths);
    if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
      out[key] = value.map((v) => (rng.bool(0.6) ? rng.pick(ctx.observedPaths) : v));
    }
  }
  return ctx.generators.get(tool.name)!.isValid(out) ? out : args;
}

function drawWith(gen: ArgGenerator, rng: Rng, mode: "standard" | "edge", like: Record<string, unknown> | undefined): Record<string, unknown> {
  if (like) {
    const swapped: Record<string, unknown> = {};
    for (const key of Object.keys(like)) {
      const next = gen.generateAt(rng, `/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`, mode);
      swapped[key] = next.found ? next.value : like[key];
    }
    if (gen.isValid(swapped)) return swapped;
  }
  return gen.generate(rng, mode);
}

function vagueDraft(ctx: GenContext, rng: Rng, wording: Wording, systemVariant: number): Draft {
  const topic = withFaker(rng, (f) => `my ${f.word.adjective()} ${f.word.noun()}`);
  const [a, b] = rng.shuffle([...ctx.tools]);
  const reply = b ? renderWhichTool(a!, b) : `Do you want me to ${actionOf(a!)}? Tell me what it should be for.`;
  return { scenario: "ambiguous", user: renderVagueRequest(topic, wording), reply, wording, systemVariant };
}
