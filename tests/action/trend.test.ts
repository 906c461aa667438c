import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { FakeGitHub } from "../support/fakes/github-api.js";
import { FIXTURES, Job, ROOT } from "./runner.js";

const TOKEN = "ghs_fakeTokenForTheLoopbackApi0005";
const TOOLS = join(ROOT, "tests", "fixtures", "data", "tools.json");
let gh: FakeGitHub;

beforeAll(async () => {
  gh = await new FakeGitHub("octo-org", "weather-mcp", TOKEN).start();
});
afterAll(async () => {
  await gh.stop();
  await Job.cleanup();
});

/** benchmark-pass.json with some metrics set. */
async function benchmarkWith(metrics: Record<string, number>): Promise<string> {
  const report = JSON.parse(await readFile(join(FIXTURES, "benchmark-pass.json"), "utf8")) as {
    metrics: Record<string, number>;
  };
  report.metrics = { ...report.metrics, ...metrics };
  return JSON.stringify(report);
}

/** A tag job whose pack and benchmark steps left a bundle and reports/benchmark.json behind, up to its release step. */
async function release(tag: string, benchmark: string): Promise<void> {
  const job = await Job.create({
    event: "push_tag.json",
    eventName: "push",
    ref: `refs/tags/${tag}`,
    env: { GITHUB_API_URL: gh.url, INPUT_TOOLS_FILE: "tools.json", INPUT_GITHUB_TOKEN: TOKEN },
  });
  const workdir = join(job.workspace, ".mcp-forge");
  await mkdir(join(workdir, "bundle"), { recursive: true });
  await mkdir(join(workdir, "reports"), { recursive: true });
  await copyFile(TOOLS, join(job.workspace, "tools.json"));
  await copyFile(TOOLS, join(workdir, "bundle", "tools.json"));
  await writeFile(join(workdir, "bundle", "model.gguf"), `model of ${tag}`);
  await writeFile(join(workdir, "reports", "benchmark.json"), benchmark);
  expect((await job.step("setup")).code).toBe(0);
  const result = await job.step("release");
  expect(result.code, result.stdout).toBe(0);
}

describe("the trend across releases", () => {
  it("each release keeps its benchmark.json; the PR comment and job summary chart and tabulate the last three releases and this PR", async () => {
    // A release from before the benchmark asset existed is passed over; so is a draft.
    gh.releases.push({ id: 1, tag_name: "v0.0.9", name: "v0.0.9", assets: [] });
    await release("v0.1.0", await benchmarkWith({ toolSelectionAccuracy: 0.96, argumentAccuracy: 0.85 }));
    await release("v0.2.0", await benchmarkWith({ toolSelectionAccuracy: 0.95, argumentAccuracy: 0.83 }));
    await release("v0.3.0", await benchmarkWith({ toolSelectionAccuracy: 0.94, argumentAccuracy: 0.82 }));
    await release("v0.4.0-draft", await benchmarkWith({ toolSelectionAccuracy: 0.1 }));
    gh.releases.at(-1)!.draft = true;
    const v3 = gh.releases.find((r) => r.tag_name === "v0.3.0")!;
    const asset = v3.assets.find((a) => a.name === "mcp-forge-bundle-v0.3.0.benchmark.json")!;
    expect(
      (JSON.parse(asset.data.toString("utf8")) as { metrics: Record<string, number> }).metrics.toolSelectionAccuracy,
    ).toBe(0.94);
    expect(v3.assets.find((a) => a.name === "SHA256SUMS")!.data.toString("utf8")).toContain(
      "  mcp-forge-bundle-v0.3.0.benchmark.json\n",
    );

    const job = await Job.create({
      event: "pull_request.json",
      eventName: "pull_request",
      ref: "refs/pull/7/merge",
      env: { GITHUB_API_URL: gh.url, INPUT_TOOLS_FILE: "tools.json", INPUT_GITHUB_TOKEN: TOKEN },
    });
    const reports = join(job.workspace, ".mcp-forge", "reports");
    await mkdir(reports, { recursive: true });
    await copyFile(TOOLS, join(job.workspace, "tools.json"));
    await copyFile(join(FIXTURES, "benchmark-pass.json"), join(reports, "benchmark.json"));
    expect((await job.step("setup")).code).toBe(0);
    const report = await job.step("report");
    expect(report.code, report.stdout).toBe(0);
    const body = gh.comments.get(7)![0]!.body;
    expect(body).toContain("### Trend: the last 3 releases and PR \\#7");
    const chart = body.slice(body.indexOf("### Trend"));
    expect(chart).toMatch(
      /```mermaid\n---\nconfig:\n {2}themeVariables:\n {4}xyChart:\n {6}plotColorPalette: "#[0-9a-f]{6}(, #[0-9a-f]{6}){6}"\n---\nxychart-beta\n/,
    );
    expect(chart).toContain('  x-axis ["v0.1.0", "v0.2.0", "v0.3.0", "PR #7"]');
    expect(chart).toContain('  y-axis "score" 0 --> 1');
    // One line per metric, in the table's order: toolCallParseRate first, toolSelectionAccuracy third, argumentAccuracy fourth.
    const lines = [...chart.matchAll(/^ {2}line \[(.+)\]$/gm)].map((m) => m[1]);
    expect(lines).toHaveLength(7);
    expect(lines[2]).toBe("0.96, 0.95, 0.94, 0.934");
    expect(lines[3]).toBe("0.85, 0.83, 0.82, 0.812");
    expect(chart).toContain("| metric | v0\\.1\\.0 | v0\\.2\\.0 | v0\\.3\\.0 | PR \\#7 | Δ since v0\\.1\\.0 |");
    expect(chart).toMatch(
      /\| 🟩 toolSelectionAccuracy \| 96\.0% \| 95\.0% \| 94\.0% \| \*\*93\.4%\*\* \| −2\.6 pp ⚠️ \|/,
    );
    expect(chart).toMatch(/\| 🟪 argumentAccuracy \| 85\.0% \| 83\.0% \| 82\.0% \| \*\*81\.2%\*\* \| −3\.8 pp ⚠️ \|/);
    expect(chart).toMatch(/\| 🟦 toolCallParseRate \| 99\.5% \| 99\.5% \| 99\.5% \| \*\*99\.5%\*\* \| \+0\.0 pp \|/);
    expect(report.summary).toContain(chart.trim());
    expect(gh.requests).toContain("GET /repos/octo-org/weather-mcp/releases");
  });
});
