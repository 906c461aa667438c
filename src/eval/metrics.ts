import { type MetricName, METRICS, THRESHOLDS } from "../core/contract.js";
import { callMatches } from "./argmatch.js";
import type { RunRecord } from "./loop.js";
import { receivedError } from "./loop.js";
import type { EvalCase } from "./samples.js";

export { type MetricName, METRICS, THRESHOLDS };

/** A metric's value; null when no prompt of the set counts toward it. */
export type Metrics = Record<MetricName, number | null>;

/** What one run adds to each metric: [numerator, denominator]. */
export type Contributions = Record<MetricName, [number, number]>;

/**
 * Exact definitions, per run (a run is one held-out prompt looped to its end):
 * - toolCallParseRate: of the replies (every turn, every prompt) that try to call a tool, those whose calls all parse
 *   (JSON, a string name, object arguments). A text answer where a call was needed counts against selection and
 *   loop completion, not here; under constrained decoding every call parses.
 * - schemaConformance: of all parsed calls in all turns, those naming a known tool whose arguments pass its inputSchema.
 * - toolSelectionAccuracy: of prompts that need a tool, the set of tools called in the first reply equals the expected set.
 * - argumentAccuracy: of prompts with the right tools chosen, every expected call has its own model call whose
 *   arguments match by the BFCL AST rules (argmatch.ts).
 * - noToolCorrectness: of prompts that need no tool, no reply tried to call one.
 * - errorHandlingRate: of runs that got an error result from a tool, the run had no retry storm and ended in an answer
 *   that recovered (a later call succeeded) or said the call failed, within the turn limit.
 * - loopCompletionRate: of prompts that need a tool, the run made a call, got its result and ended with a final answer
 *   within the turn limit.
 */
export function contributions(
  run: RunRecord,
  evalCase: EvalCase,
  schemas: ReadonlyMap<string, Record<string, unknown>>,
): Contributions {
  const needsTool = evalCase.expectedCalls.length > 0;
  const firstCalls = run.turns[0]?.calls ?? [];
  const parsedFirst = firstCalls.length > 0 && firstCalls.every((c) => c.check !== "unparseable");
  const attempts = run.turns.filter((t) => t.attemptedCall);
  const parsedAttempts = attempts.filter((t) => t.calls.length > 0 && t.calls.every((c) => c.check !== "unparseable"));
  const allParsed = run.turns.flatMap((t) => t.calls).filter((c) => c.check !== "unparseable");
  const conforming = allParsed.filter((c) => c.check === "ok").length;
  const expectedNames = new Set(evalCase.expectedCalls.map((c) => c.function.name));
  const calledNames = new Set(firstCalls.filter((c) => c.name !== undefined).map((c) => c.name!));
  const selected = parsedFirst && sameSet(expectedNames, calledNames);
  const argsRight = selected && argumentsMatch(evalCase, firstCalls, schemas);
  const attempted = run.turns.some((t) => t.attemptedCall);
  const gotError = receivedError(run.turns);
  const handled = gotError && run.outcome === "answered" && !run.retryStorm && !run.ignoredError;
  const executed = run.turns.some((t) => t.calls.some((c) => c.result !== undefined));
  return {
    toolCallParseRate: [parsedAttempts.length, attempts.length],
    schemaConformance: [conforming, allParsed.length],
    toolSelectionAccuracy: needsTool ? [selected ? 1 : 0, 1] : [0, 0],
    argumentAccuracy: selected ? [argsRight ? 1 : 0, 1] : [0, 0],
    noToolCorrectness: needsTool ? [0, 0] : [attempted ? 0 : 1, 1],
    errorHandlingRate: gotError ? [handled ? 1 : 0, 1] : [0, 0],
    loopCompletionRate: needsTool ? [executed && run.outcome === "answered" ? 1 : 0, 1] : [0, 0],
  };
}

function argumentsMatch(
  evalCase: EvalCase,
  calls: readonly { name?: string; arguments?: unknown; check: string }[],
  schemas: ReadonlyMap<string, Record<string, unknown>>,
): boolean {
  const left = calls.filter((c) => c.name !== undefined && c.arguments && typeof c.arguments === "object");
  return evalCase.expectedCalls.every((expected, i) => {
    const index = left.findIndex((c) =>
      callMatches(
        {
          name: expected.function.name,
          arguments: expected.function.arguments,
          ...(evalCase.acceptable?.[i] ? { acceptable: evalCase.acceptable[i] } : {}),
        },
        { name: c.name!, arguments: c.arguments as Record<string, unknown> },
        schemas.get(expected.function.name),
      ),
    );
    if (index < 0) return false;
    left.splice(index, 1);
    return true;
  });
}

const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>) => a.size === b.size && [...a].every((x) => b.has(x));

export function emptyContributions(): Contributions {
  return Object.fromEntries(METRICS.map((m) => [m, [0, 0]])) as Contributions;
}

export function sumContributions(list: readonly Contributions[]): Contributions {
  const total = emptyContributions();
  for (const c of list) for (const m of METRICS) total[m] = [total[m][0] + c[m][0], total[m][1] + c[m][1]];
  return total;
}

export function metricsOf(list: readonly Contributions[]): Metrics {
  const total = sumContributions(list);
  return Object.fromEntries(
    METRICS.map((m) => [m, total[m][1] === 0 ? null : round(total[m][0] / total[m][1])]),
  ) as Metrics;
}

export const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** Metrics grouped by a key of each run (its expected tool, its scenario). */
export function groupedMetrics<T extends { contributions: Contributions }>(
  runs: readonly T[],
  keyOf: (run: T) => string[],
): Record<string, Metrics> {
  const groups = new Map<string, Contributions[]>();
  for (const run of runs) {
    for (const key of keyOf(run)) groups.set(key, [...(groups.get(key) ?? []), run.contributions]);
  }
  return Object.fromEntries(
    [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, metricsOf(v)]),
  );
}

/** Thresholds a set of metrics misses: metric → [value, threshold]. */
export function thresholdFailures(metrics: Metrics): Array<{ metric: MetricName; value: number; threshold: number }> {
  const out: Array<{ metric: MetricName; value: number; threshold: number }> = [];
  for (const m of METRICS) {
    const threshold = THRESHOLDS[m];
    const value = metrics[m];
    if (threshold !== undefined && value !== null && value < threshold) out.push({ metric: m, value, threshold });
  }
  return out;
}
