import { readFile } from "node:fs/promises";
import { basename, join, relative } from "node:path";

import { badInput } from "../core/errors.js";
import { loadState, type PipelineState } from "../core/state.js";
import { THRESHOLDS } from "../eval/metrics.js";
import type { QualitySummary } from "./manifest.js";

/** One line of a samples JSONL file, kept as parsed. */
export type SampleLine = Record<string, unknown> & { messages?: unknown[]; scenario?: unknown; id?: unknown };

/** The samples of a JSONL file; undefined when the file does not exist. */
export async function readSamples(path: string): Promise<SampleLine[] | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const samples: SampleLine[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw badInput(
        `${path}:${i + 1}: not valid JSON (${(error as Error).message})`,
        "run `mcp-forge qa --fix` or regenerate the data",
      );
    }
    if (!value || typeof value !== "object" || !Array.isArray((value as SampleLine).messages)) {
      throw badInput(`${path}:${i + 1}: /messages is missing; expected a sample in the contract's chat format`);
    }
    samples.push(value as SampleLine);
  });
  return samples;
}

/** The system prompt most samples start with: the one the model was trained with. */
export function trainingSystemPrompt(samples: readonly SampleLine[]): string | undefined {
  const counts = new Map<string, number>();
  for (const s of samples) {
    const first = s.messages?.[0] as { role?: unknown; content?: unknown } | undefined;
    if (first?.role === "system" && typeof first.content === "string")
      counts.set(first.content, (counts.get(first.content) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/**
 * The tools as the chat template saw them in training: each tool's object from the first sample
 * that lists it (key order included, since `tojson` keeps it), else `fallback`'s.
 */
export function trainedTools<T extends { function: { name: string } }>(
  samples: readonly SampleLine[],
  fallback: readonly T[],
): T[] {
  const seen = new Map<string, T>();
  for (const sample of samples) {
    if (!Array.isArray(sample.tools)) continue;
    for (const tool of sample.tools as T[]) {
      const name = tool?.function?.name;
      if (typeof name === "string" && !seen.has(name)) seen.set(name, tool);
    }
  }
  return fallback.map((t) => seen.get(t.function.name) ?? t);
}

export function scenarioCounts(samples: readonly SampleLine[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of samples) {
    const scenario = typeof s.scenario === "string" ? s.scenario : "unknown";
    counts[scenario] = (counts[scenario] ?? 0) + 1;
  }
  return counts;
}

interface Report {
  model?: unknown;
  evalSet?: unknown;
  evalSetHash?: unknown;
  baseline?: unknown;
  metrics?: Record<string, unknown>;
  latencyMs?: Record<string, unknown>;
  deltas?: Record<string, unknown>;
  regressions?: unknown[];
  passed?: unknown;
}

/** The summary agent.yaml keeps of reports/validation.json or reports/benchmark.json; "not run" when absent. */
export async function qualitySummary(workdir: string, file: string): Promise<QualitySummary> {
  const path = join(workdir, file);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return { status: "not run" };
  }
  let report: Report;
  try {
    report = JSON.parse(text) as Report;
  } catch (error) {
    throw badInput(`${path}: not valid JSON (${(error as Error).message})`, "re-run the stage that writes it");
  }
  if (
    !report ||
    typeof report !== "object" ||
    typeof report.passed !== "boolean" ||
    !report.metrics ||
    typeof report.metrics !== "object"
  ) {
    throw badInput(`${path}: expected a report with /metrics and /passed`, "re-run the stage that writes it");
  }
  const metrics = numbers(report.metrics);
  const summary: QualitySummary = {
    status: report.passed ? "passed" : "failed",
    report: file,
    metrics,
    thresholds: Object.fromEntries(Object.entries(THRESHOLDS).filter(([k]) => k in metrics)) as Record<string, number>,
  };
  const baseline =
    typeof report.baseline === "string" ? report.baseline : (report.baseline as { model?: unknown } | undefined)?.model;
  if (typeof baseline === "string") summary.baseline = baseline;
  if (report.deltas && typeof report.deltas === "object" && baseline !== undefined) {
    const deltas = numbers(report.deltas);
    summary.baselineMetrics = Object.fromEntries(
      Object.entries(metrics).map(([k, v]) => [
        k,
        typeof v === "number" && typeof deltas[k] === "number" ? round(v - deltas[k]) : null,
      ]),
    );
  }
  if (report.latencyMs && typeof report.latencyMs === "object") {
    summary.latencyMs = Object.fromEntries(
      Object.entries(numbers(report.latencyMs)).filter((e): e is [string, number] => typeof e[1] === "number"),
    );
  }
  if (
    typeof report.evalSet === "string" &&
    typeof report.evalSetHash === "string" &&
    /^sha256:[0-9a-f]{64}$/.test(report.evalSetHash)
  ) {
    summary.evalSet = { file: evalSetName(workdir, report.evalSet), hash: report.evalSetHash };
  }
  if (Array.isArray(report.regressions)) {
    summary.regressions = report.regressions.map((r) =>
      typeof r === "string" ? r : String((r as { metric?: unknown })?.metric ?? JSON.stringify(r)),
    );
  }
  return summary;
}

/** Where the eval set lies, without the packing machine's absolute paths: relative to the work directory, else the file's name. */
function evalSetName(workdir: string, path: string): string {
  const inside = relative(workdir, path);
  return inside !== "" && !inside.startsWith("..") && !inside.startsWith("/") ? inside : basename(path);
}

function numbers(value: Record<string, unknown>): Record<string, number | null> {
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, typeof v === "number" && Number.isFinite(v) ? v : null]),
  );
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** The pipeline state when the work directory has a readable one; pack also works outside a pipeline. */
export async function stateIfAny(workdir: string): Promise<PipelineState | undefined> {
  try {
    return await loadState(workdir);
  } catch {
    return undefined;
  }
}

/** The first of `keys` that has a string or number value in any of `sources`, in order. */
export function pick(
  sources: ReadonlyArray<Record<string, unknown> | undefined>,
  keys: readonly string[],
): string | number | undefined {
  for (const source of sources) {
    for (const key of keys) {
      const value = source?.[key];
      if (typeof value === "string" && value !== "") return value;
      if (typeof value === "number" && Number.isFinite(value)) return value;
    }
  }
  return undefined;
}
