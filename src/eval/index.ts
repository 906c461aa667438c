/** What the pipeline (`run`, `pack`, `serve`) uses from evaluation. */
export { loadBackend, type LoadBackendOptions } from "../models/load.js";
export type {
  ChatMessage,
  FunctionTool,
  GenerateRequest,
  Generation,
  ModelBackend,
  RawCall,
  ToolCall,
} from "../models/types.js";
export { type BenchmarkOptions, runBenchmark } from "./benchmark.js";
export type { BenchmarkReport } from "./benchmark-report.js";
export type { CallTarget, EvalInputs } from "./engine.js";
export { type MetricName, METRICS, type Metrics, THRESHOLDS } from "./metrics.js";
export { runValidation, type ValidationOptions, type ValidationReport } from "./validation.js";
