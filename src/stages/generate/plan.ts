import { type Scenario, SCENARIOS } from "../../core/contract.js";
import { badInput } from "../../core/errors.js";
import type { McpTool } from "../../core/toolset.js";
import { CALLING_SCENARIOS } from "../../samples/sample.js";
import type { Rng } from "./rng.js";

export type ExecuteMode = "readonly" | "all" | "none";

/** A run of samples of one scenario for one tool (none for no_tool, or a two-tool ambiguous cell). */
export interface PlanCell {
  scenario: Scenario;
  tool?: string;
  count: number;
}

export interface SynthesisPlan {
  version: 1;
  seed: number;
  generator: "offline" | "llm";
  samples: number;
  evalSamples: number;
  evalRatio: number;
  augmentFactor: number;
  scenarioMix: Record<Scenario, number>;
  toolWeights: Record<string, number>;
  execute: ExecuteMode;
  toolsetHash: string;
  perScenario: Record<Scenario, number>;
  /** Samples that call each tool, in the training split. */
  perTool: Record<string, number>;
  /** What the QC gate demands of the dataset. */
  minimums: { perTool: number; scenarios: Scenario[] };
  train: PlanCell[];
  eval: PlanCell[];
}

export interface PlanInput {
  tools: McpTool[];
  toolsetHash: string;
  samples: number;
  seed: number;
  scenarioMix: Record<Scenario, number>;
  toolWeights?: Record<string, number>;
  evalRatio: number;
  augmentFactor: number;
  execute: ExecuteMode;
  generator: "offline" | "llm";
  minPerTool: number;
}

/** Splits `total` by weight with largest remainders (ties broken by the rng), so counts always add up. */
export function apportion(total: number, weights: Record<string, number>, rng: Rng): Record<string, number> {
  const keys = Object.keys(weights).filter((k) => (weights[k] ?? 0) > 0);
  const sum = keys.reduce((a, k) => a + weights[k]!, 0);
  const out: Record<string, number> = Object.fromEntries(Object.keys(weights).map((k) => [k, 0]));
  if (sum <= 0 || total <= 0) return out;
  const exact = keys.map((k) => ({ k, v: (total * weights[k]!) / sum, tie: rng.next() }));
  let given = 0;
  for (const e of exact) {
    out[e.k] = Math.floor(e.v);
    given += out[e.k]!;
  }
  exact.sort((a, b) => b.v - Math.floor(b.v) - (a.v - Math.floor(a.v)) || a.tie - b.tie);
  for (let i = 0; given < total; i++, given++) out[exact[i % exact.length]!.k]! += 1;
  return out;
}

const hasRequired = (t: McpTool) =>
  Array.isArray(t.inputSchema.required) && (t.inputSchema.required as unknown[]).length > 0;

function cellsFor(
  total: number,
  mix: Record<Scenario, number>,
  tools: McpTool[],
  weights: Record<string, number>,
  rng: Rng,
): PlanCell[] {
  const perScenario = apportion(total, mix, rng) as Record<Scenario, number>;
  // Small runs still get every scenario the mix asks for (the gate demands each one).
  for (const s of SCENARIOS) {
    if (mix[s] <= 0 || perScenario[s] > 0) continue;
    const donor = SCENARIOS.reduce((a, b) => (perScenario[b] > perScenario[a] ? b : a));
    if (perScenario[donor] > 1) {
      perScenario[donor]--;
      perScenario[s] = 1;
    }
  }
  const cells: PlanCell[] = [];
  for (const scenario of SCENARIOS) {
    const count = perScenario[scenario];
    if (count === 0) continue;
    if (scenario === "no_tool") {
      cells.push({ scenario, count });
      continue;
    }
    const eligible = scenario === "ambiguous" ? tools.filter(hasRequired) : tools;
    if (eligible.length === 0) {
      cells.push({ scenario, count });
      continue;
    }
    // A fifth of ambiguous requests are vague ones that fit two tools; the rest leave out a required value.
    const vague = scenario === "ambiguous" && tools.length >= 2 ? Math.floor(count / 5) : 0;
    if (vague > 0) cells.push({ scenario, count: vague });
    const split = apportion(
      count - vague,
      Object.fromEntries(eligible.map((t) => [t.name, weights[t.name] ?? 1])),
      rng,
    );
    for (const t of eligible) if (split[t.name]! > 0) cells.push({ scenario, tool: t.name, count: split[t.name]! });
  }
  return cells;
}

/** The synthesis plan: how many samples of which scenario for which tool, in each split. */
export function buildPlan(input: PlanInput, rng: Rng): SynthesisPlan {
  if (input.tools.length === 0)
    throw badInput("the toolset has no tools; nothing to generate", "inspect a server that lists at least one tool");
  const weights = Object.fromEntries(input.tools.map((t) => [t.name, input.toolWeights?.[t.name] ?? 1]));
  for (const name of Object.keys(input.toolWeights ?? {})) {
    if (!(name in weights))
      throw badInput(
        `tool weight for "${name}": no such tool in the toolset`,
        `known tools: ${Object.keys(weights).join(", ")}`,
      );
  }
  const train = cellsFor(input.samples, input.scenarioMix, input.tools, weights, rng.fork("train"));
  const evalTarget = Math.max(1, Math.ceil(input.samples * input.evalRatio));
  const evalCells = cellsFor(evalTarget, input.scenarioMix, input.tools, weights, rng.fork("eval"));
  // At least 3 held-out prompts per tool that need that tool.
  for (const t of input.tools) {
    const calls = evalCells
      .filter((c) => c.tool === t.name && CALLING_SCENARIOS.has(c.scenario))
      .reduce((a, c) => a + c.count, 0);
    if (calls < 3) {
      const cell = evalCells.find((c) => c.tool === t.name && c.scenario === "standard");
      if (cell) cell.count += 3 - calls;
      else evalCells.push({ scenario: "standard", tool: t.name, count: 3 - calls });
    }
  }
  const perScenario = Object.fromEntries(
    SCENARIOS.map((s) => [s, train.filter((c) => c.scenario === s).reduce((a, c) => a + c.count, 0)]),
  ) as Record<Scenario, number>;
  const perTool = Object.fromEntries(
    input.tools.map((t) => [
      t.name,
      train.filter((c) => c.tool === t.name && CALLING_SCENARIOS.has(c.scenario)).reduce((a, c) => a + c.count, 0),
    ]),
  );
  return {
    version: 1,
    seed: input.seed,
    generator: input.generator,
    samples: input.samples,
    evalSamples: evalCells.reduce((a, c) => a + c.count, 0),
    evalRatio: input.evalRatio,
    augmentFactor: input.augmentFactor,
    scenarioMix: input.scenarioMix,
    toolWeights: weights,
    execute: input.execute,
    toolsetHash: input.toolsetHash,
    perScenario,
    perTool,
    minimums: { perTool: input.minPerTool, scenarios: SCENARIOS.filter((s) => input.scenarioMix[s] > 0) },
    train,
    eval: evalCells,
  };
}
