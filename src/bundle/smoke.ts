import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { writeFileAtomic } from "../core/atomic.js";
import { badInput } from "../core/errors.js";
import { type Metrics, THRESHOLDS } from "../eval/metrics.js";
import { runValidation } from "../eval/validation.js";
import type { ServerTarget } from "../mcp/connect.js";
import { BUNDLE_FILES } from "./layout.js";
import type { AgentManifest } from "./manifest.js";
import type { ValidationSet } from "./validation-set.js";

export interface SmokeResult {
  prompts: number;
  /** Where the model's calls ran: the stub replaying the prompts' recorded results, or the server. */
  calls: string;
  metrics: Metrics;
  thresholds: Record<string, number>;
  failures: Array<{ metric: string; value: number; threshold: number }>;
  passed: boolean;
}

const MAX_TURNS = 4;

/**
 * The bundle's model on the first `prompts` held-out prompts of tests/validation.json, looped
 * through its calls (against `server` with read-only tools really run, else a stub replaying the
 * recorded results), each metric compared with the thresholds agent.yaml records.
 */
export async function runSmokeTest(
  bundle: string,
  manifest: AgentManifest,
  options: {
    prompts: number;
    server?: ServerTarget;
    timeoutMs: number;
    onProgress?: (done: number, total: number) => void;
  },
): Promise<SmokeResult> {
  const setPath = join(bundle, BUNDLE_FILES.validationSet);
  const set = JSON.parse(await readFile(setPath, "utf8")) as ValidationSet;
  const prompts = set.prompts.slice(0, options.prompts);
  if (prompts.length === 0)
    throw badInput(`${setPath}: no prompts to run`, "re-create the bundle from a work directory with data/eval.jsonl");
  const workdir = await mkdtemp(join(tmpdir(), "mcp-forge-smoke-"));
  try {
    const evalPath = join(workdir, "eval.jsonl");
    await writeFileAtomic(evalPath, prompts.map((p) => JSON.stringify(p.sample)).join("\n") + "\n");
    const report = await runValidation({
      model: join(bundle, BUNDLE_FILES.model),
      backendOptions: { seed: 0, contextSize: manifest.runtime.contextSize },
      toolsPath: join(bundle, BUNDLE_FILES.tools),
      evalPath,
      workdir,
      reportDir: join(workdir, "reports"),
      calls: options.server ? { kind: "server", target: options.server, execute: "read-only" } : { kind: "stub" },
      maxTurns: MAX_TURNS,
      timeoutMs: options.timeoutMs,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    const thresholds =
      manifest.validation.thresholds ?? manifest.benchmark.thresholds ?? (THRESHOLDS as Record<string, number>);
    const failures = Object.entries(thresholds).flatMap(([metric, threshold]) => {
      const value = report.metrics[metric as keyof Metrics];
      return typeof value === "number" && value < threshold ? [{ metric, value, threshold }] : [];
    });
    return {
      prompts: prompts.length,
      calls: report.calls.target,
      metrics: report.metrics,
      thresholds,
      failures,
      passed: failures.length === 0,
    };
  } finally {
    await rm(workdir, { recursive: true, force: true });
  }
}
