import { type ScoredRun, toolsOf } from "./engine.js";
import {
  type Contributions,
  groupedMetrics,
  type MetricName,
  type Metrics,
  metricsOf,
  thresholdFailures,
} from "./metrics.js";
import { type Distribution, distribution } from "./stats.js";

/** What a set of runs measured: every metric overall, per tool and per scenario, latency and throughput. */
export interface Measurement {
  metrics: Metrics;
  perTool: Record<string, Metrics>;
  perScenario: Record<string, Metrics>;
  /** End-to-end loop time per prompt. */
  latencyMs: Distribution | null;
  latency: {
    firstTokenMs: Distribution | null;
    toolCallMs: Distribution | null;
    loopMs: Distribution | null;
  };
  throughput: {
    promptsPerSecond: number;
    promptTokensPerSecond: number;
    generationTokensPerSecond: number;
  };
  harness: {
    /** Share of loop time spent outside the model. */
    overheadShare: number;
    msPerTurn: number;
    /** Of the harness time, the tool calls (a round trip to the server or stub), per call. */
    toolMsPerCall: number;
  };
  thresholdFailures: Array<{ metric: MetricName; value: number; threshold: number }>;
  counts: Counts;
}

export interface Counts {
  prompts: number;
  turns: number;
  calls: number;
  unparseableCalls: number;
  unknownTools: number;
  schemaInvalid: number;
  retryStorms: number;
  ignoredErrors: number;
  turnLimitHits: number;
  modelErrors: number;
  skippedCalls: number;
}

export function measure(runs: readonly ScoredRun[], wallMs: number): Measurement {
  const turns = runs.flatMap((r) => r.turns);
  const calls = turns.flatMap((t) => t.calls);
  const firstTurns = runs.map((r) => r.turns[0]).filter((t) => t !== undefined);
  const promptMs = sum(turns.map((t) => t.timing.firstTokenMs));
  const genMs = sum(turns.map((t) => t.timing.totalMs - t.timing.firstTokenMs));
  const loopTotal = sum(runs.map((r) => r.loopMs));
  const harnessTotal = sum(runs.map((r) => r.harnessMs));
  const metrics = metricsOf(runs.map((r) => r.contributions));
  const executed = calls.filter((c) => c.result !== undefined).length;
  return {
    metrics,
    perTool: groupedMetrics(runs, toolsOf),
    perScenario: groupedMetrics(runs, (r) => [r.scenario]),
    latencyMs: distribution(runs.map((r) => r.loopMs)),
    latency: {
      firstTokenMs: distribution(firstTurns.map((t) => t.timing.firstTokenMs)),
      toolCallMs: distribution(
        firstTurns.flatMap((t) => (t.timing.toolCallMs === undefined ? [] : [t.timing.toolCallMs])),
      ),
      loopMs: distribution(runs.map((r) => r.loopMs)),
    },
    throughput: {
      promptsPerSecond: rate(runs.length, wallMs),
      promptTokensPerSecond: rate(sum(turns.map((t) => t.timing.evaluatedPromptTokens)), promptMs),
      generationTokensPerSecond: rate(sum(turns.map((t) => t.timing.generatedTokens)), genMs),
    },
    harness: {
      overheadShare: loopTotal > 0 ? Math.round((harnessTotal / loopTotal) * 1e4) / 1e4 : 0,
      msPerTurn: turns.length > 0 ? Math.round((harnessTotal / turns.length) * 1000) / 1000 : 0,
      toolMsPerCall: executed > 0 ? Math.round((sum(runs.map((r) => r.toolMs)) / executed) * 1000) / 1000 : 0,
    },
    thresholdFailures: thresholdFailures(metrics),
    counts: {
      prompts: runs.length,
      turns: turns.length,
      calls: calls.length,
      unparseableCalls: calls.filter((c) => c.check === "unparseable").length,
      unknownTools: calls.filter((c) => c.check === "unknown_tool").length,
      schemaInvalid: calls.filter((c) => c.check === "schema_invalid").length,
      retryStorms: runs.filter((r) => r.retryStorm).length,
      ignoredErrors: runs.filter((r) => r.ignoredError).length,
      turnLimitHits: runs.filter((r) => r.outcome === "turn_limit").length,
      modelErrors: runs.filter((r) => r.outcome === "model_error").length,
      skippedCalls: calls.filter((c) => c.result?.source === "skipped").length,
    },
  };
}

/** The per-prompt record a later run pairs with for the bootstrap. */
export interface RunSummary {
  id: string;
  scenario: string;
  tools: string[];
  outcome: string;
  contributions: Contributions;
}

export const summarise = (runs: readonly ScoredRun[]): RunSummary[] =>
  runs.map((r) => ({
    id: r.id,
    scenario: r.scenario,
    tools: toolsOf(r),
    outcome: r.outcome,
    contributions: r.contributions,
  }));

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
const rate = (count: number, ms: number) => (ms > 0 ? Math.round((count / (ms / 1000)) * 100) / 100 : 0);
