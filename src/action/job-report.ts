import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";

import * as core from "@actions/core";

import { writeFileAtomic } from "../core/atomic.js";
import { bundleArchive } from "./bundle-archive.js";
import { cacheEvents } from "./cache.js";
import { upsertComment } from "./comment.js";
import { loadConfig, readState, type RunContext, runContext, stateDir } from "./context.js";
import { gateFailures } from "./gate.js";
import { github, releasedBenchmarks, statusOf } from "./github.js";
import type { ActionConfig } from "./inputs.js";
import { renderReport, type ReportInput, stateMarker } from "./markdown.js";
import type { BenchmarkData, DriftResult, QcReport } from "./report-data.js";
import { isBenchmark } from "./report-data.js";
import { redact, secretsOf } from "./secrets.js";
import { toolsetHashOf } from "./stages.js";
import { token } from "./token.js";
import { TREND_RELEASES, type TrendPoint } from "./trend.js";

/**
 * Runs whatever happened before (always()): the QC, benchmark, trend and drift Markdown to the job
 * summary on every event, and as the one PR comment (input comment: always, on-change or off). A token
 * that may not comment (a fork's) leaves only the summary, with a warning; the step still passes.
 */
export async function report(): Promise<void> {
  const config = await loadConfig();
  const context = await runContext();
  const benchmark = await readJson<BenchmarkData>(join(config.workdir, "reports", "benchmark.json"));
  const input: ReportInput = {
    mode: config.mode,
    qc: await readJson<QcReport>(join(config.workdir, "reports", "qc.json")),
    ...(isBenchmark(benchmark) ? { benchmark, trend: await trend(context), currentLabel: currentLabel(context) } : {}),
    thresholds: config.thresholds,
    // The gate's own rule on the same report and inputs, so the table and headline agree with the gate step.
    failures: isBenchmark(benchmark) ? gateFailures(benchmark, config.thresholds) : [],
    baselineNote:
      (await readState<{ note: string }>("baseline.json"))?.note ??
      (isBenchmark(benchmark) && benchmark.baseline ? `${benchmark.baseline.model ?? "given"}` : "none"),
    drift: await readState<DriftResult>("drift.json"),
    cache: await cacheEvents(),
    toolsetHash: await toolsetHashOf(config).catch(() => undefined),
    runUrl: context.runUrl,
    failedSteps: failedSteps(process.env.STEP_OUTCOMES ?? ""),
    timings: (await readState<Record<string, number>>("timings.json")) ?? {},
  };
  const secrets = secretsOf(config);
  const safe = redact(renderReport(input), secrets);
  await writeFileAtomic(join(config.workdir, "reports", "action-report.md"), safe);
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(safe).write();
  core.setOutput("artifacts-dir", await stageArtifacts(config, secrets));
  if (config.comment === "off" || !context.pullRequest) return;
  try {
    const where = { owner: context.owner, repo: context.repo, issue: context.pullRequest.number };
    const { url, action } = await upsertComment(github(token()), where, safe, {
      mode: config.comment,
      state: stateMarker(input),
    });
    core.info(
      action === "unchanged"
        ? `nothing changed since the PR comment (metrics, gate, drift): left as it is (comment: on-change): ${url}`
        : `${action} the PR comment: ${url}`,
    );
    core.setOutput("comment-url", url);
  } catch (error) {
    const status = statusOf(error);
    if (status !== 403 && status !== 404) throw error;
    const why = context.pullRequest.fork
      ? "this PR comes from a fork, whose token is read-only"
      : "the token may not write pull requests; grant `pull-requests: write`";
    core.warning(
      `cannot comment on pull request #${context.pullRequest.number} (HTTP ${status}: ${why}); the report is in the job summary`,
      { title: "MCP-Forge comment skipped" },
    );
  }
}

/** This run's column in the trend. */
function currentLabel(context: RunContext): string {
  if (context.pullRequest) return `PR #${context.pullRequest.number}`;
  return context.tag ?? "this run";
}

/** The benchmarks of the last releases, oldest first (one that is not a benchmark report is left out); none, with a warning, when they cannot be read. */
async function trend(context: RunContext): Promise<TrendPoint[]> {
  try {
    const released = await releasedBenchmarks(github(token()), context, TREND_RELEASES, context.tag);
    const points: TrendPoint[] = [];
    for (const { tag, text } of released.reverse()) {
      const report = parseJson(text);
      if (isBenchmark(report)) points.push({ label: tag, metrics: report.metrics });
      else
        core.warning(`release ${tag}: its benchmark asset is not a benchmark report; left out of the trend`, {
          title: "MCP-Forge trend",
        });
    }
    return points;
  } catch (error) {
    const status = statusOf(error);
    core.warning(
      `the trend across releases is left out: cannot read the releases' benchmarks (${status ? `HTTP ${status}: ` : ""}${(error as Error).message})`,
      { title: "MCP-Forge trend" },
    );
    return [];
  }
}

/** `inspect=success,train=failure,…` (the composite's steps.*.outcome) → the failed ones. */
function failedSteps(outcomes: string): string[] {
  return outcomes
    .split(",")
    .map((pair) => pair.split("="))
    .filter(([, outcome]) => outcome === "failure" || outcome === "cancelled")
    .map(([name]) => name!.trim());
}

/** Copies the reports (and, on request, the bundle) to one folder for upload-artifact, with secrets redacted. */
async function stageArtifacts(config: ActionConfig, secrets: readonly string[]): Promise<string> {
  const dir = join(stateDir(), "artifacts");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const reports = join(config.workdir, "reports");
  for (const name of await readdir(reports).catch(() => [])) {
    const text = await readFile(join(reports, name), "utf8").catch(() => undefined);
    if (text !== undefined) await writeFile(join(dir, name), redact(text, secrets));
  }
  const tools = await readFile(join(config.workdir, "tools.json"), "utf8").catch(() => undefined);
  if (tools !== undefined) await writeFile(join(dir, "tools.json"), redact(tools, secrets));
  if (config.uploadBundle && (await stat(join(config.workdir, "bundle")).catch(() => undefined))) {
    try {
      const { archive } = await bundleArchive(config, "run");
      await cp(archive, join(dir, basename(archive)));
    } catch (error) {
      core.warning(`the bundle is not in the artifacts: ${(error as Error).message}`, { title: "MCP-Forge artifacts" });
    }
  }
  return dir;
}

async function readJson<T>(path: string): Promise<T | undefined> {
  const text = await readFile(path, "utf8").catch(() => undefined);
  return text === undefined ? undefined : (parseJson(text) as T | undefined);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
