import type { McpTool } from "../core/toolset.js";
import type { ToolExecutor, ToolResult } from "../eval/mcp-executor.js";

/** Asks whether a call to a tool that is not read-only may run; `prompt` is the question shown. */
export type Confirm = (prompt: string) => Promise<boolean>;

export interface CallEvents {
  onCall?(name: string, args: Record<string, unknown>): void;
  onResult?(name: string, result: ToolResult): void;
}

/** The tool result the model reads when the user said no. */
export const declinedResult = (name: string): ToolResult => ({
  content: `The user declined the call to ${name}; it was not run. Do not retry it; tell the user what you would have done.`,
  isError: true,
  source: "rejected",
});

/**
 * Runs the model's calls on the live server; a tool not marked read-only
 * (annotations.readOnlyHint !== true) runs only once `confirm` says yes.
 */
export class ConfirmingExecutor implements ToolExecutor {
  private readonly tools: Map<string, McpTool>;

  constructor(
    private readonly inner: ToolExecutor,
    tools: readonly McpTool[],
    private readonly confirm: Confirm | "always",
    private readonly events: CallEvents = {},
  ) {
    this.tools = new Map(tools.map((t) => [t.name, t]));
  }

  async call(name: string, args: Record<string, unknown>): Promise<ToolResult> {
    this.events.onCall?.(name, args);
    const readOnly = this.tools.get(name)?.annotations?.readOnlyHint === true;
    const allowed = readOnly || this.confirm === "always" || (await this.confirm(confirmQuestion(name, args)));
    const result = allowed ? await this.inner.call(name, args) : declinedResult(name);
    this.events.onResult?.(name, result);
    return result;
  }
}

const MAX_SHOWN_ARGS = 400;

/** The question shown before a write call: the tool and its arguments (shortened). */
export function confirmQuestion(name: string, args: Record<string, unknown>): string {
  const json = JSON.stringify(args);
  const shown = json.length > MAX_SHOWN_ARGS ? `${json.slice(0, MAX_SHOWN_ARGS)}…` : json;
  return `allow ${name} ${shown}? it is not marked read-only [y/N] `;
}
