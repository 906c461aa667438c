import type { McpTool } from "../../core/toolset.js";
import type { Message, Sample } from "../../samples/sample.js";
import { argSourcesOf, drawArgs } from "./args.js";
import type { GenContext } from "./context.js";
import { claim, type Draft } from "./drafts.js";
import type { Rng } from "./rng.js";
import type { Execution, ServerState } from "./server-calls.js";
import { stubError, stubResult, type ToolResult, transientError } from "./tool-result.js";
import { renderAnswer, renderErrorAnswer, renderRequest, renderSystemPrompt } from "./wording/templates.js";

/** Further draws when the answer is not the kind wanted: after a rejection, for values the server accepts; after a success of a call meant to fail, for values it rejects. */
const RETRIES = { afterRejection: 3, afterSuccess: 1 };

export interface SampleIds {
  id: string;
  seedId: string;
  source: "seed" | "augmented";
}

/**
 * Turns a draft into a contract sample: runs the call (a stub only for a tool that is not run) and
 * writes the final answer. What the server answered stands: a call it keeps rejecting becomes an
 * error sample, never a made-up success.
 */
export async function assemble(ctx: GenContext, draft: Draft, ids: SampleIds, rng: Rng): Promise<Sample> {
  const system: Message = {
    role: "system",
    content: renderSystemPrompt(ctx.tools, ctx.serverName, draft.systemVariant),
  };
  const base = { ...ids, scenario: draft.scenario, tools: ctx.openAiTools };
  if (!draft.tool || !draft.args) {
    return {
      ...base,
      messages: [system, { role: "user", content: draft.user }, { role: "assistant", content: draft.reply ?? "" }],
    };
  }
  const tool = draft.tool;
  let args = draft.args;
  let user = draft.user;
  let scenario = draft.scenario;
  let result: ToolResult;
  let state: ServerState = "fresh";
  const wantError = scenario === "error";
  let real = await execute(ctx, tool, args, scenario === "standard");
  // Other values (fresh text to match) while the answer is not the kind wanted; for a standard call, the server's own values where known.
  const retries = wantError ? RETRIES.afterSuccess : RETRIES.afterRejection;
  for (
    let i = 0;
    real &&
    real.isError !== wantError &&
    i < retries &&
    ctx.executor.canRun(tool) &&
    !(real.isError && ctx.executor.neverSucceeds(tool));
    i++
  ) {
    const nextArgs = drawArgs(ctx, tool, scenario, rng, undefined, wantError ? "avoid" : "prefer");
    const nextUser = renderRequest(tool, nextArgs, draft.wording);
    if (!claim(ctx, nextUser)) continue;
    [args, user] = [nextArgs, nextUser];
    real = await execute(ctx, tool, args, scenario === "standard");
  }
  if (!real) result = wantError ? stubError(tool, args, rng) : stubResult(tool, args, rng);
  else if (real.isError || !wantError) [result, state] = [real, real.state];
  // The server accepted every call meant to fail: only a transient failure cannot contradict it.
  else result = transientError(rng);
  if (result.isError) scenario = "error";
  const answer = result.isError
    ? renderErrorAnswer(tool, result.content, draft.wording, args)
    : renderAnswer(tool, result.content, draft.wording, args);
  const messages: Message[] = [
    system,
    { role: "user", content: user },
    {
      role: "assistant",
      content: "",
      tool_calls: [{ id: "call_1", type: "function", function: { name: tool.name, arguments: args } }],
    },
    { role: "tool", tool_call_id: "call_1", name: tool.name, content: result.content },
    { role: "assistant", content: answer },
  ];
  return {
    ...base,
    scenario,
    messages,
    resultSource: result.source,
    resultIsError: result.isError,
    argSources: argSourcesOf(ctx, tool, args),
    serverState: state,
    ...(scenario !== draft.scenario ? { drawnAs: draft.scenario } : {}),
  };
}

/** Runs a call when the policy allows, and learns from the answer: values it shows, or values an error names as allowed. */
async function execute(
  ctx: GenContext,
  tool: McpTool,
  args: Record<string, unknown>,
  expectSuccess: boolean,
): Promise<Execution | undefined> {
  const result = await ctx.executor.call(tool, args, { expectSuccess });
  if (!result) return undefined;
  if (result.isError) ctx.values.learnFromError(tool.name, args, result.content);
  else ctx.values.harvest(result.content, args, tool.name);
  ctx.counters.toolCalls++;
  ctx.onProgress();
  return result;
}
