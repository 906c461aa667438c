import type { McpConnection } from "../../mcp/connect.js";
import type { McpTool } from "../../core/toolset.js";
import { redactSecrets, resultText, type ToolResult } from "../../data/tool-result.js";
import type { ExecuteMode } from "./plan.js";

/** Whether a tool may be run for real: read-only ones by default; any tool only with `--execute all`. */
export function mayExecute(tool: McpTool, mode: ExecuteMode): boolean {
  if (mode === "all") return true;
  if (mode === "none") return false;
  return tool.annotations?.readOnlyHint === true && tool.annotations?.destructiveHint !== true;
}

/** Runs tool calls against a live server under the execution policy, and counts what it did. */
export class ToolExecutor {
  executed = 0;
  readonly executedByTool = new Map<string, number>();
  /** Tools that timed out or broke the connection once; later calls use stubs instead. */
  private readonly disabled = new Set<string>();

  constructor(
    private readonly connection: McpConnection | undefined,
    private readonly mode: ExecuteMode,
    private readonly callTimeoutMs: number,
  ) {}

  canRun(tool: McpTool): boolean {
    return this.connection !== undefined && !this.disabled.has(tool.name) && mayExecute(tool, this.mode);
  }

  /** The server's result, or undefined when the tool is not run (policy, or it failed to answer). */
  async call(tool: McpTool, args: Record<string, unknown>): Promise<ToolResult | undefined> {
    if (!this.canRun(tool)) return undefined;
    this.executed++;
    this.executedByTool.set(tool.name, (this.executedByTool.get(tool.name) ?? 0) + 1);
    try {
      const result = await this.connection!.client.callTool({ name: tool.name, arguments: args }, undefined, {
        timeout: this.callTimeoutMs,
      });
      return { content: redactSecrets(resultText(result as { content?: unknown })), isError: result.isError === true, source: "server" };
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      // A protocol-level error (bad params, unknown tool) is still the server's real error answer.
      if (/MCP error -32602|MCP error -32603|MCP error -32601/.test(message)) {
        return { content: message.replace(/^MCP error -?\d+: /, "Error: "), isError: true, source: "server" };
      }
      this.disabled.add(tool.name);
      return undefined;
    }
  }
}
