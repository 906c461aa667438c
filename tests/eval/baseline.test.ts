import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startFakeOpenAi } from "./helpers/fake-openai.js";
import { cli, script, TOOLS, writeOracleFiles } from "./helpers/oracle.js";

describe("benchmark --baseline", () => {
  let fake: Awaited<ReturnType<typeof startFakeOpenAi>>;
  const files = writeOracleFiles();
  const run = (model: string, workdir: string, ...extra: string[]) =>
    cli([
      "benchmark",
      "--model",
      `openai:${model}`,
      "--base-url",
      fake.baseUrl,
      "--tools",
      files.toolsPath,
      "--eval",
      files.evalPath,
      "--data",
      files.evalPath,
      "--workdir",
      join(files.dir, workdir),
      "--json",
      ...extra,
    ]);
  const reportOf = (workdir: string) =>
    JSON.parse(readFileSync(join(files.dir, workdir, "reports", "benchmark.json"), "utf8"));
  let baselinePath: string;

  beforeAll(async () => {
    fake = await startFakeOpenAi(script);
    const good = await run("perfect", "good");
    expect(good.exitCode, good.stderr).toBe(0);
    baselinePath = join(files.dir, "good", "reports", "benchmark.json");
  });
  afterAll(async () => fake?.close());

  it("a run against itself has every delta 0 and no regressions", async () => {
    const result = await run("perfect", "self", "--baseline", baselinePath);
    expect(result.exitCode, result.stderr).toBe(0);
    const report = reportOf("self");
    expect(Object.values(report.deltas).every((d) => d === 0)).toBe(true);
    expect(Object.keys(report.deltas)).toHaveLength(7);
    expect(report.regressions).toEqual([]);
    expect(report.passed).toBe(true);
    for (const interval of Object.values(report.deltaIntervals) as Array<{ low: number; high: number }>) {
      expect([interval.low, interval.high]).toEqual([0, 0]);
    }
  });

  it("a planted 10-point drop in tool selection fails the gate with exit 1", async () => {
    // "dropped" answers P1 without a call: 9 of 10 tool prompts right instead of 10 of 10.
    const result = await run("dropped", "dropped", "--baseline", baselinePath);
    expect(result.exitCode).toBe(1);
    const report = reportOf("dropped");
    expect(report.deltas.toolSelectionAccuracy).toBeCloseTo(-0.1, 6);
    expect(report.regressions).toContain("toolSelectionAccuracy");
    expect(report.passed).toBe(false);
    const interval = report.deltaIntervals.toolSelectionAccuracy;
    expect(interval.low).toBeLessThan(-0.05);
    // One prompt of twelve differs: many resamples leave it out, so the interval reaches zero.
    expect(interval.high).toBe(0);
    const md = readFileSync(join(files.dir, "dropped", "reports", "benchmark.md"), "utf8");
    expect(md.split("\n")[2]).toMatch(/FAIL.*toolSelectionAccuracy regressed.*selection 0\.900 ▼/);
  });

  it("--gate significant does not count a drop whose interval includes zero", async () => {
    const result = await run("dropped", "significant", "--baseline", baselinePath, "--gate", "significant");
    const report = reportOf("significant");
    expect(report.regressions).toEqual([]);
    expect(report.gate).toBe("significant");
    // It still fails, on the release thresholds alone (loop completion 0.9 < 0.95), not on the regression.
    expect(result.exitCode).toBe(1);
    expect(report.thresholdFailures.map((f: { metric: string }) => f.metric)).toEqual(["loopCompletionRate"]);
  });

  it("a per-metric tolerance above the drop lets it pass", async () => {
    const loose = ["--tolerance-for", "toolSelectionAccuracy=0.15", "--tolerance-for", "loopCompletionRate=0.15"];
    const result = await run("dropped", "tolerant", "--baseline", baselinePath, ...loose);
    expect(reportOf("tolerant").regressions).toEqual([]);
    expect(result.exitCode).toBe(1); // still below a release threshold (loop completion 0.9 < 0.95)
  });

  it("refuses a baseline measured on another toolset (exit 2) unless --allow-mismatch", async () => {
    const changed = TOOLS.map((t) => (t.name === "tag_items" ? { ...t, description: "Set tags on items" } : t));
    const other = writeOracleFiles(changed);
    const args = [
      "benchmark",
      "--model",
      "openai:perfect",
      "--base-url",
      fake.baseUrl,
      "--tools",
      other.toolsPath,
      "--eval",
      files.evalPath,
      "--workdir",
      join(other.dir, "wd"),
      "--baseline",
      baselinePath,
    ];
    const refused = await cli(args);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/different toolset.*toolsetHash/);
    expect(refused.stderr).toMatch(/--allow-mismatch/);
    const allowed = await cli([...args, "--allow-mismatch"]);
    expect(allowed.exitCode, allowed.stderr).toBe(0);
  });

  it("refuses a baseline measured on another eval set", async () => {
    const trimmed = join(files.dir, "eval-trimmed.jsonl");
    writeFileSync(trimmed, readFileSync(files.evalPath, "utf8").split("\n").slice(1).join("\n"));
    const refused = await cli([
      "benchmark",
      "--model",
      "openai:perfect",
      "--base-url",
      fake.baseUrl,
      "--tools",
      files.toolsPath,
      "--eval",
      trimmed,
      "--workdir",
      join(files.dir, "trim"),
      "--baseline",
      baselinePath,
    ]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/different eval set/);
  });
});
