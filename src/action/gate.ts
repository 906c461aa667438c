import { THRESHOLDS } from "../core/contract.js";
import type { BenchmarkData, GateFailure } from "./report-data.js";

/** The contract's release thresholds (docs/contract.md §4), for reports that do not carry their own. */
export const DEFAULT_THRESHOLDS: Record<string, number> = { ...THRESHOLDS };

/** The contract's regression tolerance: a fall by more than this against the baseline is a regression. */
export const DEFAULT_TOLERANCE = 0.02;

/** The thresholds that gate the run: the action's `thresholds` input over the report's over the contract's. */
export function effectiveThresholds(report: BenchmarkData, overrides: Record<string, number>): Record<string, number> {
  return { ...DEFAULT_THRESHOLDS, ...report.thresholds, ...overrides };
}

/**
 * Every reason the benchmark fails the gate: a metric under its threshold (effectiveThresholds) or
 * listed in the report's regressions. A metric no prompt counted toward (null) is not gated.
 */
export function gateFailures(report: BenchmarkData, overrides: Record<string, number>): GateFailure[] {
  const failures: GateFailure[] = [];
  for (const [metric, limit] of Object.entries(effectiveThresholds(report, overrides))) {
    const value = report.metrics[metric];
    if (typeof value !== "number" || value >= limit) continue;
    failures.push({
      metric,
      kind: "threshold",
      value,
      limit,
      message: `${metric} ${fmt(value)} is below the threshold ${fmt(limit)}`,
    });
  }
  for (const metric of report.regressions ?? []) {
    const delta = report.deltas?.[metric] ?? null;
    const tolerance = report.tolerance?.[metric] ?? DEFAULT_TOLERANCE;
    const value = report.metrics[metric] ?? null;
    failures.push({
      metric,
      kind: "regression",
      value,
      limit: tolerance,
      message: `${metric} regressed by ${delta === null ? "?" : fmt(-delta)} against the baseline (tolerance ${fmt(tolerance)})${value === null ? "" : `, now ${fmt(value)}`}`,
    });
  }
  return failures;
}

const fmt = (x: number) => String(Math.round(x * 10000) / 10000);
