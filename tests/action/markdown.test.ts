import { readFile } from "node:fs/promises";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { gateFailures } from "../../src/action/gate.js";
import { COMMENT_LIMIT, MARKER, renderReport, type ReportInput } from "../../src/action/markdown.js";
import type { BenchmarkData, QcReport } from "../../src/action/report-data.js";
import { md } from "../../src/core/markdown-escape.js";
import { FIXTURES } from "./runner.js";

const load = async <T>(name: string) => JSON.parse(await readFile(join(FIXTURES, name), "utf8")) as T;

function input(benchmark: BenchmarkData, qc: QcReport): ReportInput {
  return {
    mode: "full",
    benchmark,
    qc,
    thresholds: {},
    failures: gateFailures(benchmark, {}),
    baselineNote: "main (last passing run)",
    cache: [],
    runUrl: "https://github.com/o/r/actions/runs/1",
    failedSteps: [],
  };
}

describe("report Markdown", () => {
  it("an oversized report (3,000 tools, 5,000 QC issues) stays under the comment limit with the headline and metric table intact", async () => {
    const benchmark = await load<BenchmarkData>("benchmark-regression.json");
    const row = benchmark.perTool!.create_entities!;
    benchmark.perTool = Object.fromEntries(
      Array.from({ length: 3000 }, (_, i) => [`tool_with_a_long_descriptive_name_${i}`, row]),
    );
    const qc = await load<QcReport>("qc.json");
    qc.toolCoverage = Object.fromEntries(Object.keys(benchmark.perTool).map((t) => [t, 12]));
    qc.issues = Array.from({ length: 5000 }, (_, i) => ({
      line: i + 1,
      id: `s-${i}`,
      kind: "near_duplicate",
      message: `user text 0.97 similar to line ${i}, ${"x".repeat(80)}`,
    }));
    const full = renderReport(input(benchmark, qc), Infinity);
    expect(full.length).toBeGreaterThan(COMMENT_LIMIT);

    const text = renderReport(input(benchmark, qc));
    expect(text.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(text.startsWith(MARKER)).toBe(true);
    expect(text).toContain(
      "## ❌ MCP-Forge: failed: toolSelectionAccuracy below threshold, toolSelectionAccuracy regressed",
    );
    for (const metric of Object.keys(benchmark.metrics)) expect(text).toMatch(new RegExp(`^\\| ${metric} \\|`, "m"));
    expect(text).toContain("<summary>Per-tool results (3000 tools)</summary>");
    expect(text).toMatch(/… \d+ more rows in the artifacts/);
    expect(text.trimEnd().endsWith("</sub>")).toBe(true);
  });

  it("tool names, descriptions and server messages cannot inject HTML, links, mentions or table cells", () => {
    const evil = "<img src=x onerror=alert(1)> [click](https://evil.example) @octocat | ![x](y) `code`\nnext line";
    const out = md(evil);
    expect(out).not.toMatch(/<img|\]\(|@octocat|[^\\]\||\n/);
    expect(out).toContain("&lt;img");
    expect(out).toContain("@&#8203;octocat");
  });

  it("text inside <details><summary> is HTML-escaped, not Markdown-escaped: no backslashes show", async () => {
    const benchmark = await load<BenchmarkData>("benchmark-pass.json");
    const qc = await load<QcReport>("qc.json");
    const drift = (release: string) =>
      renderReport({
        ...input(benchmark, qc),
        drift: {
          status: "drift",
          release,
          message: "toolset drifted",
          changed: [{ name: "create_entities", breaking: false, paths: ["/description"] }],
        },
      });
    expect(drift("v0.9.0")).toContain("<summary>Changes since v0.9.0 (1)</summary>");
    expect(drift("v1_<b>x</b> & @octo-org/team")).toContain(
      "<summary>Changes since v1_&lt;b&gt;x&lt;/b&gt; &amp; @&#8203;octo-org/team (1)</summary>",
    );
  });

  it("puts escaped QC issue messages and a per-metric chart in the report", async () => {
    const benchmark = await load<BenchmarkData>("benchmark-pass.json");
    const qc = await load<QcReport>("qc.json");
    qc.issues = [{ line: 3, kind: "schema_violation", message: "<script>x</script> | @here" }];
    const text = renderReport(input(benchmark, qc));
    expect(text).toContain("| 3 | schema\\_violation | &lt;script&gt;x&lt;/script&gt; \\| @&#8203;here |");
    expect(text).toContain("```mermaid\nxychart-beta");
    expect(text).toContain("  bar [0.995, 0.981, 0.934, 0.812, 0.9, 0.875, 0.962]");
    expect(text).toContain("  line [0.99, 0.975, 0.921, 0.8, 0.9, 0.85, 0.955]");
  });
});
