import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

import type { McpTool } from "../core/toolset.js";
import type { McpConnection } from "../mcp/connect.js";
import type { StubResponder } from "../mcp/stub-server.js";

export interface ToolResult {
  content: string;
  isError: boolean;
  /** server: the call ran; stub: a stub server answered; skipped: not run (unsafe), a recorded or stub result stands in; rejected: MCP-Forge refused an unknown tool or invalid arguments. */
  source: "server" | "stub" | "skipped" | "rejected";
}

export interface ToolExecutor {
  call(name: string, args: Record<string, unknown>): Promise<ToolResult>;
  /**
   * True when calling this tool early, or for nothing, changes nothing anyone sees; the loop
   * then starts a call while the model is still writing its reply. Absent: never.
   */
  prefetchable?(name: string): boolean;
}

/** Which tools a run may really call: read-only ones (annotations.readOnlyHint) unless `all`. */
export type ExecutePolicy = "read-only" | "all";

/**
 * Runs calls through the MCP client. Under the read-only policy a tool not marked read-only is
 * not called; its result comes from `fallback` (recorded during generation, or from its schema).
 */
export class McpExecutor implements ToolExecutor {
  private readonly tools: Map<string, McpTool>;

  constructor(
    private readonly connection: McpConnection,
    tools: readonly McpTool[],
    private readonly options: {
      policy: ExecutePolicy;
      timeoutMs: number;
      source: "server" | "stub";
      fallback: StubResponder;
      /** The target keeps no state between calls (a stub without error injection). */
      stateless?: boolean;
    },
  ) {
    this.tools = new Map(tools.map((t) => [t.name, t]));
  }

  prefetchable(name: string): boolean {
    const readOnly = this.tools.get(name)?.annotations?.readOnlyHint === true;
    // Under the read-only policy a tool that is not read-only is answered by the fallback, not run.
    return readOnly || this.options.policy === "read-only" || this.options.stateless === true;
  }

  async call(name: string, args: Record<string, unknown>): Promise<ToolResult> {
    const tool = this.tools.get(name);
    if (this.options.policy === "read-only" && tool?.annotations?.readOnlyHint !== true) {
      const stand = this.options.fallback.respond(name, args);
      return { content: stand.content, isError: stand.isError, source: "skipped" };
    }
    try {
      const result = (await this.connection.client.callTool({ name, arguments: args }, undefined, {
        timeout: this.options.timeoutMs,
      })) as CallToolResult;
      return { content: resultText(result), isError: result.isError === true, source: this.options.source };
    } catch (error) {
      return { content: `Error: ${(error as Error).message}`, isError: true, source: this.options.source };
    }
  }
}

/** The text a model sees for a tool result: its text parts, else its structured content. */
export function resultText(result: CallToolResult): string {
  const parts = (result.content ?? []).map((part) => {
    if (part.type === "text") return part.text;
    if (part.type === "resource" && "text" in part.resource) return String(part.resource.text);
    return `[${part.type}]`;
  });
  if (parts.length > 0) return parts.join("\n");
  return result.structuredContent ? JSON.stringify(result.structuredContent) : "";
}
