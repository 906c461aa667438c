import type { McpTool } from "../../core/toolset.js";
import { type OpenAiTool, toOpenAiTool, type ValueSource } from "../../samples/sample.js";
import type { ToolExecutor } from "./server-calls.js";
import { Grounding } from "./values/grounding.js";
import { ArgGenerator } from "./values/schema-args.js";
import { ServerValues } from "./values/server-values.js";
import { familiesFor } from "./wording/no-tool-bank.js";

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
  /** What the live server has shown (discovery, results, errors naming allowed values): the best argument values. */
  values: ServerValues;
  /** The source of each top-level value of the argument objects drawn, by object. */
  argSources: WeakMap<Record<string, unknown>, Record<string, ValueSource>>;
  counters: Counters;
  onProgress(): void;
}

export function makeContext(
  tools: McpTool[],
  serverName: string,
  executor: ToolExecutor,
  onProgress: () => void,
): GenContext {
  const values = new ServerValues();
  const generators = new Map<string, ArgGenerator>();
  for (const t of tools)
    generators.set(
      t.name,
      new ArgGenerator(t.inputSchema, `tool "${t.name}" inputSchema`, new Grounding(t.name, values)),
    );
  return {
    tools,
    byName: new Map(tools.map((t) => [t.name, t])),
    openAiTools: tools.map(toOpenAiTool),
    serverName,
    generators,
    executor,
    noToolFamilies: familiesFor(tools),
    usedTexts: new Set(),
    values,
    argSources: new WeakMap(),
    counters: { samples: 0, toolCalls: 0, cacheHits: 0, llmRequests: 0 },
    onProgress,
  };
}

/** The key under which user texts count as the same. */
export const textKey = (text: string) => text.toLowerCase().replace(/\s+/g, " ").trim();
