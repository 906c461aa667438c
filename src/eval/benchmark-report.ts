import type { DeltaInterval } from "./bootstrap.js";
import type { MetricName, THRESHOLDS } from "./metrics.js";
import type { Measurement, RunSummary } from "./report.js";

/** What `benchmark` writes to reports/benchmark.json (docs/contract.md), and its parts. */

export type Decoding = "free" | "constrained" | "both";
export type Gate = "absolute" | "significant";

export interface ModelRun extends Measurement {
  model: string;
  decoding: "free" | "constrained";
  runs: RunSummary[];
}

export interface BenchmarkReport extends ModelRun {
  baseline?: { model: string; source: string; decoding: string };
  /** The validation report whose runs were taken instead of grading the model again (`--runs-from`). */
  runsFrom?: string;
  toolsetHash: string;
  evalSetHash: string;
  evalSet: string;
  maxTurns: number;
  thresholds: typeof THRESHOLDS;
  tolerance: Record<MetricName, number>;
  gate: Gate;
  deltas: Partial<Record<MetricName, number | null>>;
  deltaIntervals: Partial<Record<MetricName, DeltaInterval>>;
  regressions: MetricName[];
  /** The other decoding mode, side by side, when both ran. */
  comparison?: ModelRun;
  /** Per-tool figures of the baseline, for the chart. */
  baselinePerTool?: ModelRun["perTool"];
  passed: boolean;
  files: { json: string; md: string };
}
