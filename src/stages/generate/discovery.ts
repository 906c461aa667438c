import { isObject } from "../../core/schema-walk.js";
import type { McpTool } from "../../core/toolset.js";
import { drawArgs } from "./args.js";
import type { GenContext } from "./context.js";
import type { Rng } from "./rng.js";
import { paramKind, snakeCase } from "./values/param-kind.js";

/** What the discovery pass did, for the stage summary. */
export interface DiscoveryReport {
  /** Listing calls and probes made. */
  calls: number;
  /** Values the server showed (paths, names, ids, tables, allowed values). */
  values: number;
  roots: string[];
  /** Tools marked read-only whose answers depend on earlier calls. */
  stateful: string[];
}

/** Tools whose names say they list or describe what the server holds. */
const LISTING =
  /(^|_)(list|tree|graph|tables|schema|allowed|roots|branches|tags|describe|catalog|directories|resources|index)(_|$)/;
const MAX_DIRS_LISTED = 4;

const requiredOf = (t: McpTool) => (Array.isArray(t.inputSchema.required) ? (t.inputSchema.required as string[]) : []);
const propertyOf = (t: McpTool, key: string) => {
  const props = t.inputSchema.properties;
  return isObject(props) && isObject(props[key]) ? props[key] : {};
};

/**
 * Before any sample is drawn, asks a live server what it holds: read-only listing tools without
 * arguments, then listing tools on each directory found, then its resources. What they show feeds
 * argument drawing. Then each read-only tool is called twice with the same arguments: one whose
 * answer changes is stateful, and the executor gives later samples a fresh process after it.
 */
export async function discover(ctx: GenContext, rng: Rng): Promise<DiscoveryReport | undefined> {
  const executor = ctx.executor;
  const readOnly = ctx.tools.filter((t) => executor.canRun(t) && t.annotations?.readOnlyHint === true);
  if (readOnly.length === 0) return undefined;
  let calls = 0;
  const look = async (tool: McpTool, args: Record<string, unknown>) => {
    calls++;
    const result = await executor.peek(tool, args);
    if (result.isError) ctx.values.learnFromError(tool.name, args, result.content);
    else ctx.values.harvest(result.content, args, tool.name);
    return result;
  };

  const listings = readOnly.filter((t) => requiredOf(t).length === 0 && LISTING.test(snakeCase(t.name)));
  for (const tool of listings) await look(tool, {});

  const dirListings = readOnly.filter((t) => {
    const req = requiredOf(t);
    if (req.length !== 1 || !LISTING.test(snakeCase(t.name))) return false;
    const kind = paramKind(req[0]!, propertyOf(t, req[0]!).description as string | undefined, false);
    return kind === "dir" || kind === "path";
  });
  for (const tool of dirListings) {
    for (const dir of ctx.values.dirs.slice(0, MAX_DIRS_LISTED)) await look(tool, { [requiredOf(tool)[0]!]: dir });
  }
  // Other listings that need arguments (a repository's branches, a database's tables) take what was found so far.
  const rest = readOnly.filter(
    (t) => requiredOf(t).length > 0 && !dirListings.includes(t) && LISTING.test(snakeCase(t.name)),
  );
  for (const tool of rest)
    await look(tool, drawArgs(ctx, tool, "standard", rng.fork(`list/${tool.name}`), undefined, "prefer"));

  const resources = await executor.resources();
  if (resources.length > 0) ctx.values.harvest(JSON.stringify({ resourceUris: resources.map((r) => r.uri) }), {});

  for (const tool of readOnly) {
    if (!executor.canRun(tool)) continue;
    const args = drawArgs(ctx, tool, "standard", rng.fork(tool.name));
    calls += 2;
    const first = await executor.call(tool, args);
    const second = await executor.call(tool, args);
    if (first && second && !first.isError && !second.isError && steady(first.content) !== steady(second.content))
      executor.markStateful(tool);
  }
  await executor.freshen();
  if (listings.length > 0) {
    await executor.watchState(async () => {
      const parts: string[] = [];
      for (const tool of listings) parts.push((await executor.peek(tool, {})).content);
      return parts.join("\n");
    });
  }
  return { calls, values: ctx.values.size, roots: [...ctx.values.roots], stateful: [...executor.stateful] };
}

/** An answer without what changes by itself between calls (clock times, dates, uuids, long ids), to compare two answers. */
function steady(text: string): string {
  return text
    .replace(/\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?/g, "<date>")
    .replace(/\b\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\b/g, "<time>")
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, "<uuid>")
    .replace(/\b\d{10,}\b|\b[0-9a-f]{16,}\b/gi, "<n>")
    .replace(/\b\d+\.\d{3,}\b/g, "<x>");
}
