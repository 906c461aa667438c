import { readFileSync } from "node:fs";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startFakeOpenAi } from "./helpers/fake-openai.js";
import { cli, script, writeOracleFiles } from "./helpers/oracle.js";

/*
 * Hand computation for the oracle script (helpers/oracle.ts). Prompts needing a tool: P1 P2 P3 P4 P6 P7 P8 P10 P11 P12
 * (10); needing none: P5 P9 (2).
 * - toolCallParseRate: replies that try a call: P1 P2 P3 P4 P5 P8 P10 P11 P12 one each, P7 four (13); all parse but
 *   P3's (malformed JSON) → 12/13.
 * - schemaConformance: parsed calls in all turns: P1 1, P2 1, P4 1 (invalid: "3"), P5 1, P7 4, P8 1, P10 1, P11 1,
 *   P12 1 (unknown tool) = 12; conforming: all but P4 and P12 → 10/12.
 * - toolSelectionAccuracy: right tool set first: P1 P4 P7 P8 P10 P11 → 6/10.
 * - argumentAccuracy: of those six, all but P4 (string "3" for an integer) → 5/6.
 * - noToolCorrectness: P9 right, P5 called a tool → 1/2.
 * - errorHandlingRate: runs that got an error result: P7 (retry storm, turn limit), P8 (made-up answer), P11 (handled) → 1/3.
 * - loopCompletionRate: call → result → answer: P1 P2 P4 P8 P10 P11 P12; not P3 (unparseable), P6 (no call), P7 (turn limit) → 7/10.
 */
const OVERALL = {
  toolCallParseRate: 12 / 13,
  schemaConformance: 10 / 12,
  toolSelectionAccuracy: 6 / 10,
  argumentAccuracy: 5 / 6,
  noToolCorrectness: 1 / 2,
  errorHandlingRate: 1 / 3,
  loopCompletionRate: 7 / 10,
};

/*
 * Per tool (runs grouped by the tool their prompt expects):
 * - get_weather: P1 P3 P6 P7 P11 P12. parse: replies with calls P1 1, P3 0/1, P7 4, P11 1, P12 1 → 7/8; schema: P1 1/1, P7 4/4, P11 1/1, P12 0/1 → 6/7;
 *   selection: P1 P7 P11 → 3/6; arguments 3/3; errors: P7 ✗ P11 ✓ → 1/2; loop: P1 P11 P12 → 3/6.
 * - search_files: P2 P4 P8. parse 3/3; schema: P2 1/1, P4 0/1, P8 1/1 → 2/3; selection: P4 P8 → 2/3;
 *   arguments: P8 only → 1/2; errors: P8 ✗ → 0/1; loop 3/3.
 * - tag_items: P10, every figure 1 (no error result, no no-tool prompt).
 */
const PER_TOOL = {
  get_weather: {
    toolCallParseRate: 7 / 8,
    schemaConformance: 6 / 7,
    toolSelectionAccuracy: 3 / 6,
    argumentAccuracy: 1,
    noToolCorrectness: null,
    errorHandlingRate: 1 / 2,
    loopCompletionRate: 3 / 6,
  },
  search_files: {
    toolCallParseRate: 1,
    schemaConformance: 2 / 3,
    toolSelectionAccuracy: 2 / 3,
    argumentAccuracy: 1 / 2,
    noToolCorrectness: null,
    errorHandlingRate: 0,
    loopCompletionRate: 1,
  },
  tag_items: {
    toolCallParseRate: 1,
    schemaConformance: 1,
    toolSelectionAccuracy: 1,
    argumentAccuracy: 1,
    noToolCorrectness: null,
    errorHandlingRate: null,
    loopCompletionRate: 1,
  },
};

/*
 * Per scenario:
 * - standard: P1 P2 P3 P4 P6 P10 P12. parse: replies with calls P1 P2 P3 P4 P10 P12, all but P3's parse → 5/6; schema: P1 P2 P10 of P1 P2 P4 P10 P12 → 3/5;
 *   selection: P1 P4 P10 → 3/7; arguments: P1 P10 of P1 P4 P10 → 2/3; no error results; loop: all but P3 P6 → 5/7.
 * - no_tool: P5 P9. parse: P5's call parses → 1/1; schema: it is valid → 1/1; noTool 1/2; the rest have no prompts that count.
 * - error: P7 P8 P11. parse 6/6 (P7 tries four times); schema 6/6; selection 3/3; arguments 3/3; errors 1/3; loop: P8 P11 → 2/3.
 */
const PER_SCENARIO = {
  standard: {
    toolCallParseRate: 5 / 6,
    schemaConformance: 3 / 5,
    toolSelectionAccuracy: 3 / 7,
    argumentAccuracy: 2 / 3,
    noToolCorrectness: null,
    errorHandlingRate: null,
    loopCompletionRate: 5 / 7,
  },
  no_tool: {
    toolCallParseRate: 1,
    schemaConformance: 1,
    toolSelectionAccuracy: null,
    argumentAccuracy: null,
    noToolCorrectness: 1 / 2,
    errorHandlingRate: null,
    loopCompletionRate: null,
  },
  error: {
    toolCallParseRate: 1,
    schemaConformance: 1,
    toolSelectionAccuracy: 1,
    argumentAccuracy: 1,
    noToolCorrectness: null,
    errorHandlingRate: 1 / 3,
    loopCompletionRate: 2 / 3,
  },
};

function close(actual: Record<string, number | null>, expected: Record<string, number | null>) {
  for (const [k, v] of Object.entries(expected)) {
    if (v === null) expect(actual[k], k).toBeNull();
    else expect(actual[k], k).toBeCloseTo(v, 5);
  }
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
}

describe("metric oracle: a scripted OpenAI-compatible model against the stub server", () => {
  let fake: Awaited<ReturnType<typeof startFakeOpenAi>>;
  const files = writeOracleFiles();
  const common = () => [
    "--model",
    "openai:oracle",
    "--base-url",
    fake.baseUrl,
    "--tools",
    files.toolsPath,
    "--eval",
    files.evalPath,
    "--data",
    files.evalPath,
    "--workdir",
    join(files.dir, "wd"),
  ];

  beforeAll(async () => {
    fake = await startFakeOpenAi(script);
  });
  afterAll(async () => fake?.close());

  it("benchmark: every metric, per tool and per scenario, equals the hand computation; below thresholds exits 1", async () => {
    const result = await cli(["benchmark", ...common(), "--json"]);
    expect(result.stderr).not.toMatch(/^error:/m);
    expect(result.exitCode).toBe(1);
    const report = JSON.parse(readFileSync(join(files.dir, "wd", "reports", "benchmark.json"), "utf8"));
    close(report.metrics, OVERALL);
    expect(Object.keys(report.perTool).sort()).toEqual(Object.keys(PER_TOOL).sort());
    for (const [tool, expected] of Object.entries(PER_TOOL)) close(report.perTool[tool], expected);
    expect(Object.keys(report.perScenario).sort()).toEqual(Object.keys(PER_SCENARIO).sort());
    for (const [scenario, expected] of Object.entries(PER_SCENARIO)) close(report.perScenario[scenario], expected);
    expect(report.passed).toBe(false);
    expect(report.latencyMs).toMatchObject({
      min: expect.any(Number),
      p50: expect.any(Number),
      p95: expect.any(Number),
      p99: expect.any(Number),
      max: expect.any(Number),
      mean: expect.any(Number),
    });
    expect(report.latencyMs.min).toBeGreaterThan(0);
    expect(report.toolsetHash).toMatch(/^sha256:/);
    expect(report.evalSetHash).toMatch(/^sha256:/);
    const md = readFileSync(join(files.dir, "wd", "reports", "benchmark.md"), "utf8");
    expect(md.split("\n")[2]).toMatch(/FAIL.*selection 0\.600.*arguments 0\.833.*parse 0\.923/);
    expect(md).toContain("xychart-beta");
  });

  it("validate: counts each kind of failure and exits 1 below a threshold", async () => {
    const result = await cli(["validate", ...common(), "--transcripts", "--json"]);
    expect(result.exitCode).toBe(1);
    const summary = JSON.parse(result.stdout);
    expect(summary.passed).toBe(false);
    close(summary.metrics, OVERALL);
    expect(summary.counts).toMatchObject({
      prompts: 12,
      unparseableCalls: 1, // P3
      unknownTools: 1, // P12
      schemaInvalid: 1, // P4
      retryStorms: 1, // P7
      ignoredErrors: 1, // P8
      turnLimitHits: 1, // P7
    });
    const report = JSON.parse(readFileSync(join(files.dir, "wd", "reports", "validation.json"), "utf8"));
    expect(report.transcripts).toHaveLength(12);
    const p7 = report.transcripts.find((t: { id: string }) => t.id === "P7");
    expect(p7.turns).toHaveLength(4);
    expect(p7.turns[0].calls[0].result).toEqual({ content: "Error: city not found", isError: true, source: "stub" });
  });
});
