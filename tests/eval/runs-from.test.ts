import { readFileSync } from "node:fs";
import { join } from "node:path";

import { beforeAll, describe, expect, it } from "vitest";

import { startFakeOpenAi } from "./helpers/fake-openai.js";
import { cli, script, writeOracleFiles } from "./helpers/oracle.js";

describe("benchmark --runs-from", () => {
  const files = writeOracleFiles();
  const workdir = join(files.dir, "w");
  const validation = join(workdir, "reports", "validation.json");
  const common = ["--tools", files.toolsPath, "--eval", files.evalPath, "--data", files.evalPath, "--workdir", workdir];
  const benchmark = (model: string, ...extra: string[]) =>
    cli([
      "benchmark",
      "--model",
      `openai:${model}`,
      "--base-url",
      "http://127.0.0.1:9/v1",
      ...common,
      "--json",
      ...extra,
    ]);

  let validateExit: number | undefined;

  beforeAll(async () => {
    const fake = await startFakeOpenAi(script);
    try {
      const validated = await cli(["validate", "--model", "openai:dropped", "--base-url", fake.baseUrl, ...common]);
      expect([0, 1], validated.stderr).toContain(validated.exitCode);
      validateExit = validated.exitCode;
    } finally {
      await fake.close();
    }
  });

  it("reports validation's runs without grading the model again (its server is gone)", async () => {
    const result = await benchmark("dropped", "--runs-from", validation);
    expect(result.exitCode, result.stderr).toBe(validateExit);
    const report = JSON.parse(readFileSync(join(workdir, "reports", "benchmark.json"), "utf8"));
    const validated = JSON.parse(readFileSync(validation, "utf8"));
    expect(report.runsFrom).toBe(validation);
    expect(report.runs).toEqual(validated.runs);
    expect(report.metrics).toEqual(validated.metrics);
    expect(report.metrics.toolSelectionAccuracy).toBeCloseTo(0.9, 6);
    expect(readFileSync(join(workdir, "reports", "benchmark.md"), "utf8")).toContain("runs taken from");
  });

  it("refuses a report of another model or decoding with exit 2 and the fix", async () => {
    const other = await benchmark("perfect", "--runs-from", validation);
    expect(other.exitCode).toBe(2);
    expect(other.stderr).toContain('graded the model "openai:dropped", not "openai:perfect"');
    expect(other.stderr).toMatch(/run `mcp-forge validate` on this model again, or drop --runs-from/);
    const both = await benchmark("dropped", "--runs-from", validation, "--decoding", "both");
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toContain("--runs-from with --decoding both");
  });
});
