/** The parts of the contract's reports the action reads (docs/contract.md §3); anything else is ignored. */

export type MetricValues = Record<string, number | null | undefined>;

export interface QcReport {
  total?: number;
  valid?: number;
  dropped?: number;
  schemaPassRate?: number;
  dedupRate?: number;
  toolCoverage?: Record<string, number>;
  scenarioCoverage?: Record<string, number>;
  passed?: boolean;
  issues?: Array<{ line?: number; id?: string; kind?: string; message?: string }>;
}

export interface BenchmarkData {
  model?: string;
  baseline?: { model?: string; source?: string };
  metrics: MetricValues;
  perTool?: Record<string, MetricValues>;
  perScenario?: Record<string, MetricValues>;
  latencyMs?: { p50?: number; p95?: number; p99?: number; mean?: number } | null;
  deltas?: Record<string, number | null>;
  deltaIntervals?: Record<string, { delta: number; low: number; high: number }>;
  regressions?: string[];
  thresholds?: Record<string, number>;
  tolerance?: Record<string, number>;
  toolsetHash?: string;
  passed?: boolean;
}

/** Why a metric fails the gate: below its threshold, or fallen past the tolerance against the baseline. */
export interface GateFailure {
  metric: string;
  kind: "threshold" | "regression";
  value: number | null;
  limit: number;
  message: string;
}

export interface DriftResult {
  status: "match" | "drift" | "no-release" | "skipped" | "error";
  release?: string;
  message: string;
  added?: string[];
  removed?: string[];
  changed?: Array<{ name: string; breaking: boolean; paths: string[] }>;
  breaking?: boolean;
}

export function isBenchmark(value: unknown): value is BenchmarkData {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as BenchmarkData).metrics === "object" &&
    (value as BenchmarkData).metrics !== null
  );
}
