import type { McpTool } from "../../core/toolset.js";
import type { Rng } from "../../data/rng.js";
import type { Message, Sample } from "../../data/sample.js";
import { renderAnswer, renderErrorAnswer, renderRequest, renderSystemPrompt } from "../../data/templates.js";
import { stubError, stubResult, type ToolResult } from "../../data/tool-result.js";
import { observePaths, type GenContext } from "./context.js";
import { drawArgs } from "./args.js";
import { claim, type Draft } from "./drafts.js";

const RESULT_RETRIES = 2;

export interface SampleIds {
  id: string;
  seedId: string;
  source: "seed" | "augmented";
}

/** Turns a draft into a contract sample: runs (or stubs) the call and writes the final answer. */
export async function assemble(ctx: GenContext, draft: Draft, ids: SampleIds, rng: Rng): Promise<Sample> {
  const system: Message = { role: "system", content: renderSystemPrompt(ctx.tools, ctx.serverName, draft.systemVariant) };
  const base = { ...ids, scenario: draft.scenario, tools: ctx.openAiTools };
  if (!draft.tool || !draft.args) {
    return { ...base, messages: [system, { role: "user", content: draft.user }, { role: "assistant", content: draft.reply ?? "" }] };
  }
  const tool = draft.tool;
  let args = draft.args;
  let user = draft.user;
  let result: ToolResult;
  if (draft.scenario === "error") {
    const real = await execute(ctx, tool, args);
    result = real?.isError ? real : stubError(tool, args, rng);
  } else {
    let real = await execute(ctx, tool, args);
    // A standard call should succeed; when the server refuses these values, try other ones (fresh text to match).
    for (let i = 0; real?.isError && i < RESULT_RETRIES && ctx.executor.canRun(tool); i++) {
      const nextArgs = drawArgs(ctx, tool, draft.scenario, rng);
      const nextUser = renderRequest(tool, nextArgs, draft.wording);
      if (!claim(ctx, nextUser)) continue;
      [args, user] = [nextArgs, nextUser];
      real = await execute(ctx, tool, args);
    }
    result = real && !real.isError ? real : stubResult(tool, args, rng);
  }
  const answer = result.isError ? renderErrorAnswer(tool, result.content, draft.wording) : renderAnswer(tool, result.content, draft.wording);
  const messages: Message[] = [
    system,
    { role: "user", content: user },
    { role: "assistant", content: "", tool_calls: [{ id: "call_1", type: "function", function: { name: tool.name, arguments: args } }] },
    { role: "tool", tool_call_id: "call_1", name: tool.name, content: result.content },
    { role: "assistant", content: answer },
  ];
  return { ...base, messages, resultSource: result.source, resultIsError: result.isError };
}

async function execute(ctx: GenContext, tool: McpTool, args: Record<string, unknown>): Promise<ToolResult | undefined> {
  const result = await ctx.executor.call(tool, args);
  if (result && !result.isError) observePaths(ctx, result.content, args);
  if (result) {
    ctx.counters.toolCalls++;
    ctx.onProgress();
  }
  return result;
}
