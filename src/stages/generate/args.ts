import type { McpTool } from "../../core/toolset.js";
import { badInput } from "../../core/errors.js";
import type { Rng } from "../../data/rng.js";
import type { Scenario } from "../../data/sample.js";
import { ArgumentError, type ArgGenerator } from "../../data/schema-args.js";
import type { GenContext } from "./context.js";

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
