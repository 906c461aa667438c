import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { beforeAll, describe, expect, it } from "vitest";

import { ensureTinyModel, type TinyModel } from "../helpers/tiny-model.js";
import { cli, ROOT } from "./helpers/oracle.js";

interface CallRecord {
  name?: string;
  check: string;
  result?: { source: string; isError: boolean };
}
interface Transcript {
  turns: Array<{ calls: CallRecord[] }>;
}

const MEMORY_SERVER = join(ROOT, "node_modules", "@modelcontextprotocol", "server-memory", "dist", "index.js");

/** End to end on CPU: the exported tiny GGUF, run in process by llama.cpp, looped against real MCP servers. */
describe("the tiny model, end to end", () => {
  let tiny: TinyModel;
  const dir = mkdtempSync(join(tmpdir(), "mcp-forge-e2e-"));
  const base = (workdir: string) => [
    "--model",
    tiny.gguf,
    "--tools",
    tiny.toolsPath,
    "--eval",
    tiny.evalData,
    "--workdir",
    join(dir, workdir),
    "--limit",
    "6",
    "--max-turns",
    "3",
    "--json",
  ];
  const calls = (transcripts: Transcript[]) => transcripts.flatMap((t) => t.turns.flatMap((turn) => turn.calls));

  beforeAll(async () => {
    tiny = await ensureTinyModel();
  }, 1_800_000);

  // Validation decodes under the grammar: it makes the (barely trained) tiny model call tools, so the
  // calls really reach the servers, and every call parses and fits its schema.
  it("validates against @modelcontextprotocol/server-memory, every call run by the real server", async () => {
    const result = await cli([
      "validate",
      ...base("memory"),
      "--constrained",
      "--server",
      `${process.execPath} ${MEMORY_SERVER}`,
      "--env",
      `MEMORY_FILE_PATH=${join(dir, "memory.jsonl")}`,
      "--execute",
      "all",
      "--transcripts",
    ]);
    expect([0, 1], result.stderr).toContain(result.exitCode);
    const report = JSON.parse(readFileSync(join(dir, "memory", "reports", "validation.json"), "utf8"));
    expect(report.counts.prompts).toBe(6);
    expect(report.calls).toEqual({ target: `${process.execPath} ${MEMORY_SERVER}`, execute: "all" });
    const ran = calls(report.transcripts).filter((c) => c.check === "ok");
    expect(ran.length).toBeGreaterThan(0);
    for (const call of ran) expect(call.result?.source).toBe("server");
    expect(report.metrics.toolCallParseRate).toBe(1);
    expect(report.metrics.schemaConformance).toBe(1);
    expect(JSON.parse(result.stdout).passed).toBe(result.exitCode === 0);
  });

  it("validates against the stub server started from tools.json and the recorded results", async () => {
    const result = await cli([
      "validate",
      ...base("stub"),
      "--constrained",
      "--stub",
      "--data",
      tiny.trainData,
      "--data",
      tiny.evalData,
      "--transcripts",
    ]);
    expect([0, 1], result.stderr).toContain(result.exitCode);
    const report = JSON.parse(readFileSync(join(dir, "stub", "reports", "validation.json"), "utf8"));
    const ran = calls(report.transcripts).filter((c) => c.check === "ok");
    expect(ran.length).toBeGreaterThan(0);
    for (const call of ran) expect(call.result?.source).toBe("stub");
    expect(readFileSync(join(dir, "stub", "reports", "validation.md"), "utf8")).toMatch(/^# Validation: /);
  });

  it("benchmarks free and constrained decoding side by side; constrained calls always parse and conform", async () => {
    const result = await cli(["benchmark", ...base("bench"), "--decoding", "both", "--baseline-model", tiny.gguf]);
    expect([0, 1], result.stderr).toContain(result.exitCode);
    const report = JSON.parse(readFileSync(join(dir, "bench", "reports", "benchmark.json"), "utf8"));
    expect(report.decoding).toBe("free");
    expect(report.comparison.decoding).toBe("constrained");
    expect(report.comparison.metrics.toolCallParseRate).toBe(1);
    expect(report.comparison.metrics.schemaConformance).toBe(1);
    // The baseline is the same model with the same greedy decoding: nothing changes.
    expect(report.baseline).toMatchObject({ model: tiny.gguf, source: "--baseline-model" });
    for (const delta of Object.values(report.deltas)) expect([0, null]).toContain(delta);
    expect(report.regressions).toEqual([]);
    expect(report.latency.firstTokenMs.p50).toBeGreaterThan(0);
    expect(report.throughput.generationTokensPerSecond).toBeGreaterThan(0);
    const md = readFileSync(join(dir, "bench", "reports", "benchmark.md"), "utf8");
    expect(md).toContain("## free vs constrained decoding");
  });
});
