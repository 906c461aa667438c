import { type Scenario, SCENARIOS } from "../../core/contract.js";
import { CALLING_SCENARIOS } from "../../samples/sample.js";

/** A tool call as read from a file: arguments may still be a JSON string. */
export interface RawCall {
  id: string;
  function: { name: string; arguments: unknown };
}

export interface Structure {
  /** The first structural problem, or undefined when the sample is well formed. */
  problem?: string;
  calls: RawCall[];
}

const SCENARIO_SET = new Set<string>(SCENARIOS);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Checks a parsed sample against the contract's format: fields and their types, roles in a valid
 * order (system?, then user/assistant turns), every tool call answered by a tool message with its
 * id, the conversation ending on an assistant answer, and calls only in scenarios that need them.
 */
export function checkStructure(sample: unknown): Structure {
  const calls: RawCall[] = [];
  const fail = (problem: string): Structure => ({ problem, calls });
  if (!isObj(sample)) return fail("a sample must be a JSON object");
  if (typeof sample.id !== "string" || sample.id === "") return fail('"id" must be a non-empty string');
  if (typeof sample.scenario !== "string" || !SCENARIO_SET.has(sample.scenario)) {
    return fail(`"scenario" must be one of ${SCENARIOS.join(", ")}, got ${JSON.stringify(sample.scenario)}`);
  }
  if (sample.source !== "seed" && sample.source !== "augmented")
    return fail(`"source" must be "seed" or "augmented", got ${JSON.stringify(sample.source)}`);
  if (!Array.isArray(sample.tools)) return fail('"tools" must be an array of {type: "function", function: {...}}');
  for (let i = 0; i < sample.tools.length; i++) {
    const t = sample.tools[i] as Record<string, unknown>;
    if (!isObj(t) || t.type !== "function" || !isObj(t.function) || typeof t.function.name !== "string") {
      return fail(`/tools/${i} must be {"type": "function", "function": {"name": …, "parameters": …}}`);
    }
  }
  const messages = sample.messages;
  if (!Array.isArray(messages) || messages.length === 0) return fail('"messages" must be a non-empty array');
  let i = 0;
  const first = messages[0] as Record<string, unknown>;
  if (isObj(first) && first.role === "system") {
    if (typeof first.content !== "string") return fail("/messages/0: system content must be a string");
    i = 1;
  }
  let expect: "user" | "assistant" = "user";
  let pending: Set<string> | undefined;
  let sawUser = false;
  for (; i < messages.length; i++) {
    const m = messages[i] as Record<string, unknown>;
    const at = `/messages/${i}`;
    if (!isObj(m)) return fail(`${at} must be an object`);
    if (pending) {
      if (m.role !== "tool")
        return fail(
          `${at}: expected a tool message answering ${[...pending].join(", ")}, got role ${JSON.stringify(m.role)}`,
        );
      if (typeof m.tool_call_id !== "string" || !pending.has(m.tool_call_id)) {
        return fail(
          `${at}: tool_call_id ${JSON.stringify(m.tool_call_id)} answers no pending call (${[...pending].join(", ")})`,
        );
      }
      if (typeof m.content !== "string") return fail(`${at}: tool content must be a string`);
      pending.delete(m.tool_call_id);
      if (pending.size === 0) {
        pending = undefined;
        expect = "assistant";
      }
      continue;
    }
    if (m.role !== expect) return fail(`${at}: expected role "${expect}", got ${JSON.stringify(m.role)}`);
    if (expect === "user") {
      if (typeof m.content !== "string") return fail(`${at}: user content must be a string`);
      sawUser = true;
      expect = "assistant";
      continue;
    }
    const toolCalls = m.tool_calls;
    const hasCalls = Array.isArray(toolCalls) && toolCalls.length > 0;
    if (typeof m.content !== "string" && !(hasCalls && m.content === null))
      return fail(`${at}: assistant content must be a string`);
    if (toolCalls !== undefined && !Array.isArray(toolCalls)) return fail(`${at}: tool_calls must be an array`);
    if (!hasCalls) {
      expect = "user";
      continue;
    }
    pending = new Set();
    for (let c = 0; c < toolCalls.length; c++) {
      const call = toolCalls[c] as Record<string, unknown>;
      const where = `${at}/tool_calls/${c}`;
      if (!isObj(call) || typeof call.id !== "string" || call.id === "")
        return fail(`${where}: a call needs a string "id"`);
      if (call.type !== undefined && call.type !== "function") return fail(`${where}: type must be "function"`);
      const fn = call.function;
      if (!isObj(fn) || typeof fn.name !== "string" || fn.name === "")
        return fail(`${where}: function.name must be a non-empty string`);
      if (!isObj(fn.arguments) && typeof fn.arguments !== "string")
        return fail(`${where}: function.arguments must be an object (or a JSON string)`);
      if (pending.has(call.id)) return fail(`${where}: call id ${JSON.stringify(call.id)} is used twice`);
      pending.add(call.id);
      calls.push(call as unknown as RawCall);
    }
  }
  if (!sawUser) return fail("there is no user message");
  if (pending) return fail(`tool call(s) ${[...pending].join(", ")} have no tool message answering them`);
  if (expect !== "user") return fail("the conversation must end with an assistant answer");
  const scenario = sample.scenario as Scenario;
  if (!CALLING_SCENARIOS.has(scenario) && calls.length > 0)
    return fail(`stray tool call in a ${scenario} sample (${scenario} samples must not call tools)`);
  if (CALLING_SCENARIOS.has(scenario) && calls.length === 0)
    return fail(`a ${scenario} sample must contain a tool call`);
  return { calls };
}
