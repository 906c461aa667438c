import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { cp, mkdir, open, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import * as core from "@actions/core";
import { diffToolsets } from "../bundle/drift.js";
import { writeFileAtomic } from "../core/atomic.js";
import { gateFailed } from "../core/errors.js";
import type { McpTool, ToolsFile } from "../core/toolset.js";
import { cacheEvents } from "./cache.js";
import { upsertComment } from "./comment.js";
import { loadConfig, readState, runContext, stateDir, writeState, type RunContext } from "./context.js";
import { gateFailures } from "./gate.js";
import { BENCHMARK_SUFFIX, github, latestReleasedToolset, publishRelease, releasedBenchmarks, statusOf, TOOLS_SUFFIX } from "./github.js";
import type { ActionConfig } from "./inputs.js";
import { renderReport, stateMarker, type ReportInput } from "./markdown.js";
import type { BenchmarkData, DriftResult, QcReport } from "./report-data.js";
import { isBenchmark } from "./report-data.js";
import { redact, secretsOf } from "./secrets.js";
import { toolsetHashOf } from "./stages.js";
import { TREND_RELEASES, type TrendPoint } from "./trend.js";

const exec = promisify(execFile);
const token = () => process.env.INPUT_GITHUB_TOKEN ?? "";

/**
 * Compares the toolset just inspected with the one the newest released bundle was trained on, as
 * `verify-bundle --tools` does, without the model: drift mode downloads and loads no model. In drift
 * mode any drift fails the step.
 */
export async function drift(): Promise<void> {
  const config = await loadConfig();
  const result = await checkDrift(config);
  await writeState("drift.json", result);
  core.setOutput("drift", result.status);
  if (config.mode === "drift") core.setOutput("passed", String(result.status !== "drift"));
  if (result.status === "drift") {
    const annotate = config.mode === "drift" || result.breaking ? core.error : core.warning;
    annotate(result.message, { title: "MCP-Forge toolset drift" });
    if (config.mode === "drift") process.exitCode = 1;
  } else if (result.status === "error") core.warning(result.message, { title: "MCP-Forge drift check" });
  else core.info(result.message);
}

async function checkDrift(config: ActionConfig): Promise<DriftResult> {
  const context = await runContext();
  let released;
  try {
    released = await latestReleasedToolset(github(token()), context);
  } catch (error) {
    const status = statusOf(error);
    return { status: "error", message: `could not read the latest release (${status ? `HTTP ${status}: ` : ""}${(error as Error).message}); drift not checked` };
  }
  if (!released) return { status: "no-release", message: "no released bundle yet: nothing to compare with" };
  const tools = released.name.endsWith(TOOLS_SUFFIX) ? released.data.toString("utf8") : await toolsFromArchive(released.name, released.data);
  if (tools === undefined) return { status: "error", release: released.tag, message: `release ${released.tag}: ${released.name} holds no bundle (no tools.json)` };
  const before = toolsOf(tools);
  const live = toolsOf(await readFile(join(config.workdir, "tools.json"), "utf8"));
  if (!before || !live) return { status: "error", release: released.tag, message: `release ${released.tag}: ${released.name} or the inspected tools.json has no /tools list` };
  const d = diffToolsets(before, live);
  if (d.added.length + d.removed.length + d.changed.length === 0) return { status: "match", release: released.tag, message: `toolset matches release ${released.tag}` };
  const counts = [d.added.length ? `${d.added.length} added` : "", d.removed.length ? `${d.removed.length} removed` : "", d.changed.length ? `${d.changed.length} changed` : ""].filter(Boolean).join(", ");
  return {
    status: "drift",
    release: released.tag,
    message: `toolset drifted from release ${released.tag} (${counts})${d.breaking ? ": breaking, the released model's calls may fail" : ""}; retrain and release`,
    added: d.added,
    removed: d.removed,
    changed: d.changed.map((c) => ({ name: c.name, breaking: c.breaking, paths: c.paths })),
    breaking: d.breaking,
  };
}

function toolsOf(text: string): McpTool[] | undefined {
  try {
    const tools = (JSON.parse(text) as Partial<ToolsFile>).tools;
    return Array.isArray(tools) ? tools : undefined;
  } catch {
    return undefined;
  }
}

/** A release from before the `.tools.json` asset: tools.json from the bundle folder inside the archive. */
async function toolsFromArchive(name: string, archive: Buffer): Promise<string | undefined> {
  const dir = join(stateDir(), "released");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, name), archive);
  await exec("tar", ["-xzf", join(dir, name), "-C", dir]);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      const text = await readFile(join(dir, entry.name, "tools.json"), "utf8").catch(() => undefined);
      if (text !== undefined) return text;
    }
  }
  return undefined;
}

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
    baselineNote: (await readState<{ note: string }>("baseline.json"))?.note ?? (isBenchmark(benchmark) && benchmark.baseline ? `${benchmark.baseline.model ?? "given"}` : "none"),
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
    const { url, action } = await upsertComment(github(token()), where, safe, { mode: config.comment, state: stateMarker(input) });
    core.info(action === "unchanged" ? `nothing changed since the PR comment (metrics, gate, drift): left as it is (comment: on-change): ${url}` : `${action} the PR comment: ${url}`);
    core.setOutput("comment-url", url);
  } catch (error) {
    const status = statusOf(error);
    if (status !== 403 && status !== 404) throw error;
    const why = context.pullRequest.fork ? "this PR comes from a fork, whose token is read-only" : "the token may not write pull requests; grant `pull-requests: write`";
    core.warning(`cannot comment on pull request #${context.pullRequest.number} (HTTP ${status}: ${why}); the report is in the job summary`, { title: "MCP-Forge comment skipped" });
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
      else core.warning(`release ${tag}: its benchmark asset is not a benchmark report; left out of the trend`, { title: "MCP-Forge trend" });
    }
    return points;
  } catch (error) {
    const status = statusOf(error);
    core.warning(`the trend across releases is left out: cannot read the releases' benchmarks (${status ? `HTTP ${status}: ` : ""}${(error as Error).message})`, { title: "MCP-Forge trend" });
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

/**
 * The bundle as `<name>-<tag>.tar.gz` (one top folder), its tools.json as `<name>-<tag>.tools.json`
 * (what the drift check downloads instead of the model), reports/benchmark.json, when there is one, as
 * `<name>-<tag>.benchmark.json` (the trend across releases), and a SHA256SUMS naming them.
 */
async function bundleArchive(config: ActionConfig, label: string): Promise<{ archive: string; tools: string; benchmark?: string; sums: string }> {
  const bundle = join(config.workdir, "bundle");
  const name = `${config.bundleName || "mcp-forge-bundle"}-${label}`.replace(/[^A-Za-z0-9._-]/g, "-");
  if (!(await stat(join(bundle, "tools.json")).catch(() => undefined))) throw gateFailed(`${bundle}: no bundle there (no tools.json)`, "the pack step must succeed before release");
  await refuseSecrets(bundle, secretsOf(config));
  const out = join(stateDir(), "release");
  const staging = join(stateDir(), "staging");
  await rm(staging, { recursive: true, force: true });
  await cp(bundle, join(staging, name), { recursive: true });
  await mkdir(out, { recursive: true });
  const archive = join(out, `${name}.tar.gz`);
  // One top folder named like the archive; staged by copy because GNU and BSD tar rename differently.
  await exec("tar", ["-czf", archive, "-C", staging, name]);
  const tools = join(out, `${name}${TOOLS_SUFFIX}`);
  await cp(join(bundle, "tools.json"), tools);
  const report = await readFile(join(config.workdir, "reports", "benchmark.json"), "utf8").catch(() => undefined);
  const benchmark = report === undefined ? undefined : join(out, `${name}${BENCHMARK_SUFFIX}`);
  if (benchmark) await writeFileAtomic(benchmark, redact(report!, secretsOf(config)));
  const line = async (file: string) => `${createHash("sha256").update(await readFile(file)).digest("hex")}  ${basename(file)}\n`;
  const sums = join(out, "SHA256SUMS");
  await writeFileAtomic(sums, (await line(archive)) + (await line(tools)) + (benchmark ? await line(benchmark) : ""));
  return { archive, tools, ...(benchmark ? { benchmark } : {}), sums };
}

/**
 * A bundle is published as is (its SHA256SUMS forbid redacting it), so one that holds a secret of this
 * run (say a token in the server URL that tools.json recorded) is not uploaded at all. Large files are
 * checked in their first 16 MiB, where a GGUF keeps its metadata.
 */
async function refuseSecrets(dir: string, secrets: readonly string[]): Promise<void> {
  if (secrets.length === 0) return;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const handle = await open(path, "r");
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(16 * 1024 * 1024), 0, 16 * 1024 * 1024, 0);
      const head = buffer.subarray(0, bytesRead);
      if (secrets.some((secret) => head.includes(secret))) {
        throw gateFailed(`${path} holds a secret of this run (from server-url or the token); the bundle is not uploaded`, "pass credentials in headers or the environment, not in the URL, so tools.json does not record them");
      }
    } finally {
      await handle.close();
    }
  }
}

/** On a tag: the bundle archive, its tools.json, the benchmark and SHA256SUMS as assets of the tag's release; a re-run replaces them. */
export async function release(): Promise<void> {
  const config = await loadConfig();
  if (!config.release) {
    core.info("release: off (input release)");
    return;
  }
  const context = await runContext();
  if (!context.tag) throw gateFailed("release needs a tag push (GITHUB_REF refs/tags/…)", "set release: auto, or run on a tag");
  const files = await bundleArchive(config, context.tag);
  const uploads = [files.archive, files.tools, ...(files.benchmark ? [files.benchmark] : []), files.sums];
  const { releaseUrl, assets } = await publishRelease(github(token()), { owner: context.owner, repo: context.repo, tag: context.tag }, uploads);
  for (const a of assets) core.info(`${a.replaced ? "replaced" : "uploaded"} ${a.name}`);
  core.setOutput("release-url", releaseUrl);
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
