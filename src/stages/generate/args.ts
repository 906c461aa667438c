import { type Scenario } from "../../core/contract.js";
import { badInput } from "../../core/errors.js";
import { isObject, type Schema } from "../../core/schema-walk.js";
import type { McpTool } from "../../core/toolset.js";
import type { ValueSource } from "../../samples/sample.js";
import type { GenContext } from "./context.js";
import type { Rng } from "./rng.js";
import { parseDescriptionHints } from "./values/description-hints.js";
import type { ServerUse } from "./values/grounding.js";
import { paramKind } from "./values/param-kind.js";
import { ArgumentError, type Drawn } from "./values/schema-args.js";
import { withFittingTypes } from "./values/semantic.js";
import { singular } from "./wording/phrasing.js";

/**
 * Arguments for a call, each value from the best source known (see VALUE_SOURCES), its source kept
 * for `argSourcesOf`. A variant draws new values under the seed's argument names where the schema
 * allows. Calls meant to fail (the error scenario) leave out what the server showed; a retry after
 * a rejection (`server: "prefer"`) takes it wherever there is some.
 */
export function drawArgs(
  ctx: GenContext,
  tool: McpTool,
  scenario: Scenario,
  rng: Rng,
  like?: Record<string, unknown>,
  server?: ServerUse,
): Record<string, unknown> {
  const gen = ctx.generators.get(tool.name)!;
  const mode = scenario === "edge" ? "edge" : "standard";
  const use = server ?? (scenario === "error" ? "avoid" : "normal");
  try {
    const drawn = (like && drawLike(ctx, tool, rng, mode, use, like)) || gen.draw(rng, mode, use);
    const fitted = withFittingTypes(drawn.value);
    const value = gen.isValid(fitted) ? fitted : drawn.value;
    ctx.argSources.set(value, drawn.sources);
    return value;
  } catch (error) {
    if (!(error instanceof ArgumentError)) throw error;
    throw badInput(
      `tool "${tool.name}": cannot generate arguments valid for its inputSchema: ${error.message}`,
      "check the schema for contradictions (e.g. minimum above maximum, a pattern that excludes every allowed length)",
    );
  }
}

function drawLike(
  ctx: GenContext,
  tool: McpTool,
  rng: Rng,
  mode: "standard" | "edge",
  use: ServerUse,
  like: Record<string, unknown>,
): Drawn | undefined {
  const gen = ctx.generators.get(tool.name)!;
  const seedSources = ctx.argSources.get(like);
  const value: Record<string, unknown> = {};
  const sources: Record<string, ValueSource> = {};
  for (const key of Object.keys(like)) {
    const next = gen.generateAt(rng, `/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`, mode, use);
    value[key] = next.found ? next.value : like[key];
    sources[key] = next.found ? next.source! : (seedSources?.[key] ?? "schema");
  }
  return gen.isValid(value) ? { value, sources } : undefined;
}

/**
 * Where each top-level value of a call's arguments came from: as drawn, or for arguments drawn
 * elsewhere (an LLM's, values swapped in augmentation) the best source that holds the value; a
 * value no grounded source holds counts as faker (invented, plausible, not known to be real).
 */
export function argSourcesOf(
  ctx: GenContext,
  tool: McpTool,
  args: Record<string, unknown>,
): Record<string, ValueSource> {
  const drawn = ctx.argSources.get(args);
  if (drawn) return drawn;
  const props = isObject(tool.inputSchema.properties) ? tool.inputSchema.properties : {};
  return Object.fromEntries(
    Object.entries(args).map(([key, value]) => [
      key,
      attribute(ctx, tool, key, isObject(props[key]) ? props[key] : {}, value),
    ]),
  );
}

function attribute(ctx: GenContext, tool: McpTool, key: string, schema: Schema, value: unknown): ValueSource {
  const items = Array.isArray(value) ? value : [value];
  if (!items.every((v) => typeof v === "string" || typeof v === "number" || typeof v === "boolean")) return "faker";
  const description = typeof schema.description === "string" ? schema.description : undefined;
  const numeric = items.every((v) => typeof v === "number");
  const known = ctx.values.valuesFor(tool.name, key, paramKind(singular(key), description, numeric)).map(String);
  if (items.length > 0 && items.every((v) => known.includes(String(v)))) return "server";
  const same = (a: unknown) => items.some((v) => JSON.stringify(v) === JSON.stringify(a));
  const listed = [
    schema.const,
    schema.default,
    ...(Array.isArray(schema.enum) ? schema.enum : []),
    ...(Array.isArray(schema.examples) ? schema.examples : []),
  ];
  if (
    items.every((v) => typeof v === "boolean") ||
    listed.some(same) ||
    typeof schema.format === "string" ||
    typeof schema.pattern === "string"
  )
    return "schema";
  if (parseDescriptionHints(description).examples.some(same)) return "description";
  return "faker";
}
