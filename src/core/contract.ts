/**
 * The contract's shared values (docs/contract.md), defined once: the stages and their order, exit
 * codes, training profiles, quantisations, metrics and release thresholds. The CLI, `run`, the
 * evaluation and the GitHub Action import them from here; the Python trainer keeps its own copies
 * (config.py `PROFILES`, export.py `QUANTS`, protocol.py `EXIT_CODES`), which
 * tests/core/contract.test.ts compares with these.
 */

/** Pipeline stages in the contract's order (docs/contract.md §1). */
export const STAGES = [
  "INSPECTING",
  "SYNTHESIZING",
  "QC_VALIDATING",
  "TRAINING",
  "EXPORTING",
  "VALIDATING",
  "BENCHMARKING",
  "PACKAGING",
] as const;
export type Stage = (typeof STAGES)[number];

/** The command that runs each stage, shown by `status` as the next step. */
export const STAGE_COMMANDS: Record<Stage, string> = {
  INSPECTING: 'mcp-forge inspect --server "<command>"   (or: mcp-forge tools import <file>)',
  SYNTHESIZING: "mcp-forge generate --samples 500",
  QC_VALIDATING: "mcp-forge qa",
  TRAINING: "mcp-forge train --model tiny --profile fast_dev",
  EXPORTING: "mcp-forge export --quant q8_0",
  VALIDATING: "mcp-forge validate --stub",
  BENCHMARKING: "mcp-forge benchmark",
  PACKAGING: "mcp-forge pack --output bundle",
};

/** Exit codes of the contract (docs/contract.md §2). */
export const ExitCode = {
  ok: 0,
  gateFailed: 1,
  badInput: 2,
  environment: 3,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Training profiles (python/mcp_forge_trainer/config.py `PROFILES`). */
export const PROFILES = ["fast_dev", "balanced", "max_quality"] as const;
export type Profile = (typeof PROFILES)[number];

/** GGUF quantisations (python/mcp_forge_trainer/export.py `QUANTS`). */
export const QUANTS = ["q8_0", "q4_k_m", "q4_k_s", "q5_k_m", "f16"] as const;
export type Quant = (typeof QUANTS)[number];

/** The contract's metrics (docs/contract.md §4), in report order. */
export const METRICS = [
  "toolCallParseRate",
  "schemaConformance",
  "toolSelectionAccuracy",
  "argumentAccuracy",
  "noToolCorrectness",
  "errorHandlingRate",
  "loopCompletionRate",
] as const;
export type MetricName = (typeof METRICS)[number];

/** Release thresholds (docs/contract.md §4); argumentAccuracy is reported, not gated. */
export const THRESHOLDS: Partial<Record<MetricName, number>> = {
  toolCallParseRate: 0.98,
  schemaConformance: 0.95,
  toolSelectionAccuracy: 0.9,
  noToolCorrectness: 0.85,
  errorHandlingRate: 0.8,
  loopCompletionRate: 0.95,
};

/** The contract's scenarios, in the order reports list them. */
export const SCENARIOS = ["standard", "no_tool", "error", "ambiguous", "edge"] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** The contract's default scenario mix (docs/contract.md §4). */
export const DEFAULT_SCENARIO_MIX: Record<Scenario, number> = {
  standard: 0.6,
  no_tool: 0.15,
  error: 0.1,
  ambiguous: 0.1,
  edge: 0.05,
};
