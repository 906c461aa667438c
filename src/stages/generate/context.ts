import type { McpTool } from "../../core/toolset.js";
import { familiesFor } from "../../data/no-tool-bank.js";
import { ArgGenerator } from "../../data/schema-args.js";
import { toOpenAiTool, type OpenAiTool } from "../../data/sample.js";
import type { ToolExecutor } from "./executor.js";

export interface Counters {
  samples: number;
  toolCalls: number;
  cacheHits: number;
  llmRequests: number;
}

/** What every part of synthesis shares: the tools, their argument generators, the executor, the texts already used. */
export interface GenContext {
  tools: McpTool[];
  byName: Map<string, McpTool>;
  openAiTools: OpenAiTool[];
  serverName: string;
  generators: Map<string, ArgGenerator>;
  executor: ToolExecutor;
  noToolFamilies: number[];
  /** Normalised user texts already written, so no two samples (train or eval) share one. */
  usedTexts: Set<string>;
  /** Absolute paths seen in the live server's successful results, reused as path arguments. */
  observedPaths: string[];
  counters: Counters;
  onProgress(): void;
}

export function makeContext(tools: McpTool[], serverName: string, executor: ToolExecutor, onProgress: () => void): GenContext {
  const generators = new Map<string, ArgGenerator>();
  for (const t of tools) generators.set(t.name, new ArgGenerator(t.inputSchema, `tool "${t.name}" inputSchema`));
  return {
    tools,
    byName: new Map(tools.map((t) => [t.name, t])),
    openAiTools: tools.map(toOpenAiTool),
    serverName,
    generators,
    executor,
    noToolFamilies: familiesFor(tools),
    usedTexts: new Set(),
    observedPaths: [],
    counters: { samples: 0, toolCalls: 0, cacheHits: 0, llmRequests: 0 },
    onProgress,
  };
}

const PATH_IN_TEXT = /(?:^|[\s"'([:,])(\/[A-Za-z0-9._/-]*[A-Za-z0-9_-])/g;
/** Directory listings in the common "[FILE] name" / "[DIR] name" form. */
const LISTED = /\[(?:FILE|DIR)\]\s+([^\s/][^\n/]*?)\s*(?:\(|$)/gm;
const MAX_OBSERVED = 200;

/**
 * Remembers absolute paths from a server's successful answer (and entries it listed under a
 * directory the call named): values the server itself knows to be real.
 */
export function observePaths(ctx: GenContext, text: string, args: Record<string, unknown>): void {
  const add = (path: string) => {
    if (ctx.observedPaths.length < MAX_OBSERVED && path.length > 1 && path.length <= 200 && !ctx.observedPaths.includes(path)) ctx.observedPaths.push(path);
  };
  for (const match of text.matchAll(PATH_IN_TEXT)) add(match[1]!);
  const dir = Object.values(args).find((v): v is string => typeof v === "string" && v.startsWith("/"));
  if (dir) for (const match of text.matchAll(LISTED)) add(`${dir.replace(/\/+$/, "")}/${match[1]!.trim()}`);
}

/** The key under which user texts count as the same. */
export const textKey = (text: string) => text.toLowerCase().replace(/\s+/g, " ").trim();
