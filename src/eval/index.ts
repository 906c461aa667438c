/** What the pipeline (`run`, `pack`, `serve`) uses from evaluation. */
export { loadBackend, type LoadBackendOptions } from "../models/load.js";
export type { ChatMessage, FunctionTool, Generation, GenerateRequest, ModelBackend, RawCall, ToolCall } from "../models/types.js";
export { runValidation, type ValidationOptions, type ValidationReport } from "./validation.js";
export { runBenchmark, type BenchmarkOptions, type BenchmarkReport } from "./benchmark.js";
export type { CallTarget, EvalInputs } from "./engine.js";
export { METRICS, THRESHOLDS, type MetricName, type Metrics } from "./metrics.js";
