import type { SampleLine } from "./sources.js";

export interface ValidationPrompt {
  id: string;
  scenario: string;
  /** The messages before the first assistant turn (system, user): what the model is given. */
  messages: unknown[];
  /** The calls the first assistant turn should make; empty when the prompt needs no tool. */
  expectedCalls: Array<{ name: string; arguments: unknown }>;
  /** The held-out sample as generated, for replaying its recorded tool results. */
  sample: SampleLine;
}

/** `tests/validation.json`: the held-out prompts verify-bundle's smoke test runs, in eval.jsonl's order. */
export interface ValidationSet {
  version: 1;
  source: string;
  toolsetHash: string;
  prompts: ValidationPrompt[];
}

export function buildValidationSet(samples: readonly SampleLine[], source: string, toolsetHash: string): ValidationSet {
  return {
    version: 1,
    source,
    toolsetHash,
    prompts: samples.map((sample, i) => {
      const messages = sample.messages ?? [];
      const first = messages.findIndex((m) => (m as { role?: unknown }).role === "assistant");
      const calls = first >= 0 ? ((messages[first] as { tool_calls?: unknown[] }).tool_calls ?? []) : [];
      return {
        id: typeof sample.id === "string" ? sample.id : `eval-${i + 1}`,
        scenario: typeof sample.scenario === "string" ? sample.scenario : "unknown",
        messages: first >= 0 ? messages.slice(0, first) : messages,
        expectedCalls: calls.map((c) => {
          const fn = (c as { function?: { name?: unknown; arguments?: unknown } }).function ?? {};
          return { name: String(fn.name ?? ""), arguments: fn.arguments ?? {} };
        }),
        sample,
      };
    }),
  };
}
