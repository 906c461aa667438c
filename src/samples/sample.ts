import { type Scenario } from "../core/contract.js";
import type { McpTool } from "../core/toolset.js";

/** Scenarios whose samples must call a tool; the others must not. */
export const CALLING_SCENARIOS: ReadonlySet<Scenario> = new Set<Scenario>(["standard", "error", "edge"]);

export type ResultSource = "server" | "stub" | "text";

/**
 * Where an argument value came from, best first: what the live server showed (discovery, listings,
 * an error naming allowed values), the schema (enum, const, default, examples, format, pattern,
 * bounds), an example or format written in a description, a semantic provider keyed by the
 * parameter's name and description, faker, and random words when nothing better was known.
 */
export const VALUE_SOURCES = ["server", "schema", "description", "semantic", "faker", "random"] as const;
export type ValueSource = (typeof VALUE_SOURCES)[number];

export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: Record<string, unknown> };
}

export type Message =
  | { role: "system"; content: string }
  | { role: "user"; content: string }
  | { role: "assistant"; content: string; tool_calls?: ToolCall[] }
  | { role: "tool"; tool_call_id: string; name: string; content: string };

export interface OpenAiTool {
  type: "function";
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

/** One training sample in the contract's chat format, plus provenance fields. */
export interface Sample {
  id: string;
  scenario: Scenario;
  source: "seed" | "augmented";
  /** The id of the seed this sample was made from (its own id for a seed). */
  seedId: string;
  tools: OpenAiTool[];
  messages: Message[];
  /** Where the tool result came from, for samples that call a tool. */
  resultSource?: ResultSource;
  /** Whether the recorded tool result is an error. */
  resultIsError?: boolean;
  /** For samples that call a tool: the source of each top-level argument value. */
  argSources?: Record<string, ValueSource>;
  /**
   * How the server's state was kept apart from other samples' calls: "fresh" (a new process or
   * nothing stateful ran), "reset", or "shared" (a stateful server whose state other samples saw).
   */
  serverState?: "fresh" | "reset" | "shared";
  /**
   * The scenario the call was drawn as, where running it changed the sample's scenario (a standard
   * call the server kept rejecting is an error sample): QC's server success share still counts it.
   */
  drawnAs?: Scenario;
}

/** An MCP tool in the OpenAI `tools` form the chat templates take. */
export function toOpenAiTool(tool: McpTool): OpenAiTool {
  return {
    type: "function",
    function: {
      name: tool.name,
      description: tool.description ?? tool.title ?? "",
      parameters: tool.inputSchema,
    },
  };
}

/** The text of every user turn of a sample, joined: what near-duplicate checks and the split compare. */
export function userText(messages: readonly { role?: unknown; content?: unknown }[]): string {
  let text = "";
  for (const m of messages) {
    if (m.role === "user" && typeof m.content === "string") text = text ? `${text}\n${m.content}` : m.content;
  }
  return text;
}
