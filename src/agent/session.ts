import { compileToolSchema, type ValidateFunction } from "../core/json-schema.js";
import type { McpTool } from "../core/toolset.js";
import { runCase, type RunRecord } from "../eval/loop.js";
import type { ToolExecutor } from "../eval/mcp-executor.js";
import type { ChatMessage, ModelBackend } from "../models/types.js";
import { type RuntimeBundle, withSystemPrompt } from "./bundle.js";

/**
 * A conversation between a user and the bundle's model, each user message looped through the
 * evaluation loop (model → calls on the live server → model) until an answer or the turn limit.
 * Calls are checked against the live server's schemas, since that is where they run.
 */
export class AgentSession {
  private history: ChatMessage[];
  private readonly validators: Map<string, ValidateFunction>;
  private asked = 0;

  constructor(
    private readonly bundle: RuntimeBundle,
    private readonly backend: ModelBackend,
    private readonly executor: ToolExecutor,
    liveTools: readonly McpTool[],
    private readonly maxTurns: number,
  ) {
    this.history = withSystemPrompt(bundle, []);
    this.validators = new Map(
      liveTools.map((t) => [t.name, compileToolSchema(t.inputSchema, `the live server's tool ${t.name} /inputSchema`)]),
    );
  }

  async ask(text: string): Promise<RunRecord> {
    const user: ChatMessage = { role: "user", content: text };
    this.asked += 1;
    const run = await runCase(
      {
        id: `message-${this.asked}`,
        scenario: "agent",
        tools: this.bundle.functionTools,
        prompt: [...this.history, user],
        expectedCalls: [],
        recorded: [],
      },
      { backend: this.backend, executor: this.executor, validators: this.validators, maxTurns: this.maxTurns },
    );
    this.history = [...this.history, user, ...transcript(run)];
    return run;
  }
}

/** The messages a run added to the conversation: each turn's calls and results, then the answer. */
export function transcript(run: RunRecord): ChatMessage[] {
  const messages: ChatMessage[] = [];
  run.turns.forEach((turn, t) => {
    const ran = turn.calls.filter((c) => c.result !== undefined && c.name !== undefined);
    if (ran.length === 0) {
      if (!turn.attemptedCall) messages.push({ role: "assistant", content: turn.content });
      return;
    }
    const ids = ran.map((_, i) => `call_${t}_${i}`);
    messages.push({
      role: "assistant",
      content: turn.content,
      tool_calls: ran.map((c, i) => ({
        id: ids[i]!,
        type: "function",
        function: { name: c.name!, arguments: c.arguments as Record<string, unknown> },
      })),
    });
    ran.forEach((c, i) =>
      messages.push({ role: "tool", tool_call_id: ids[i]!, name: c.name!, content: c.result!.content }),
    );
  });
  return messages;
}
