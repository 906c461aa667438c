import { execFileSync } from "node:child_process";
import { cp, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";

import type { AgentManifest } from "../../src/bundle/manifest.js";
import { bundleReadme, escapeMarkdown } from "../../src/bundle/readme.js";
import type { ValidationSet } from "../../src/bundle/validation-set.js";
import { runCli, tempDir } from "../support/cli.js";
import { type FixtureWorkdir, fixtureWorkdir, MEMORY_SERVER } from "./helpers.js";

const METRICS = {
  toolCallParseRate: 1,
  schemaConformance: 0.97,
  toolSelectionAccuracy: 0.92,
  argumentAccuracy: 0.8,
  noToolCorrectness: 0.9,
  errorHandlingRate: 0.85,
  loopCompletionRate: 0.96,
};

describe("pack and verify-bundle", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let fx: FixtureWorkdir;
  let bundle: string;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    fx = await fixtureWorkdir(dir);
    await mkdir(join(fx.workdir, "reports"));
    await writeFile(
      join(fx.workdir, "reports", "validation.json"),
      JSON.stringify({ model: "model.gguf", metrics: METRICS, perTool: {}, perScenario: {}, passed: true }),
    );
    await writeFile(
      join(fx.workdir, "reports", "benchmark.json"),
      JSON.stringify({
        model: "model.gguf",
        baseline: "reports/base.json",
        metrics: { ...METRICS, toolCallParseRate: 0.99 },
        perTool: {},
        perScenario: {},
        latencyMs: { min: 80, p50: 120, p95: 200, p99: 250, max: 300, mean: 130 },
        deltas: { toolCallParseRate: 0.49, toolSelectionAccuracy: 0.62 },
        regressions: [],
        passed: true,
      }),
    );
    bundle = join(dir, "bundle");
    const packed = await runCli([
      "pack",
      "--workdir",
      fx.workdir,
      "--output",
      bundle,
      "--name",
      "memory-agent",
      "--version",
      "1.2.0",
    ]);
    expect(packed.code, packed.stderr).toBe(0);
  });
  afterAll(() => cleanup());

  it("writes the contract's layout, which sha256sum and verify-bundle accept", async () => {
    expect((await readdir(bundle, { recursive: true })).sort()).toEqual([
      "Modelfile",
      "README.md",
      "SHA256SUMS",
      "agent.yaml",
      "model.gguf",
      "prompt_template.json",
      "tests",
      "tests/validation.json",
      "tools.json",
    ]);
    expect(execFileSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: bundle }).toString()).toContain("model.gguf: OK");
    const run = await runCli(["verify-bundle", bundle]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain("integrity: ok (7 files match SHA256SUMS");
  });

  it("describes the model in agent.yaml, with the reports' summary", async () => {
    const manifest = parse(await readFile(join(bundle, "agent.yaml"), "utf8")) as AgentManifest;
    expect(manifest).toMatchObject({
      name: "memory-agent",
      version: "1.2.0",
      server: { name: "memory-server" },
      baseModel: { id: "tiny" },
      toolset: { hash: fx.toolsetHash, file: "tools.json" },
      dataset: { trainSamples: 15, evalSamples: 10, validationPrompts: 10 },
      validation: { status: "passed", metrics: { schemaConformance: 0.97 }, thresholds: { toolCallParseRate: 0.98 } },
      benchmark: {
        status: "passed",
        baseline: "reports/base.json",
        baselineMetrics: { toolCallParseRate: 0.5, toolSelectionAccuracy: 0.3 },
        latencyMs: { p95: 200 },
      },
      runtime: { temperature: 0, stop: ["<|im_end|>"], chatFormat: "hermes" },
    });
    const readme = await readFile(join(bundle, "README.md"), "utf8");
    expect(readme).toContain("| toolCallParseRate | 1.000 | 0.990 | ≥ 0.98 | 0.500 |");
    expect(readme).toContain("llama-server -m model.gguf --jinja");
    expect(readme).toContain("ollama create memory-agent -f Modelfile");
  });

  it("keeps the held-out prompts with their expected calls, and the prompt format", async () => {
    const set = JSON.parse(await readFile(join(bundle, "tests", "validation.json"), "utf8")) as ValidationSet;
    expect(set.toolsetHash).toBe(fx.toolsetHash);
    const standard = set.prompts.find((p) => p.scenario === "standard")!;
    expect(standard.messages.map((m) => (m as { role: string }).role)).toEqual(["system", "user"]);
    expect(standard.expectedCalls[0]!.name).toBe("create_entities");
    expect(set.prompts.find((p) => p.scenario === "no_tool")!.expectedCalls).toEqual([]);
    const template = JSON.parse(await readFile(join(bundle, "prompt_template.json"), "utf8")) as Record<
      string,
      unknown
    >;
    expect(template).toMatchObject({
      format: "hermes",
      stop: ["<|im_end|>"],
      systemPrompt: expect.stringContaining("knowledge graph memory"),
    });
    const modelfile = await readFile(join(bundle, "Modelfile"), "utf8");
    expect(modelfile).toMatch(/^FROM \.\/model\.gguf$/m);
    expect(modelfile).toContain('SYSTEM """You are a helpful assistant with access to a knowledge graph memory.');
    expect(modelfile).toMatch(/^PARAMETER stop <\|im_end\|>$/m);
  });

  it("matches the live server it was trained on", async () => {
    const run = await runCli(["verify-bundle", bundle, "--server", `node ${MEMORY_SERVER}`, "--workdir", fx.workdir]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`toolset: matches node ${MEMORY_SERVER}`);
  });

  it("fails naming model.gguf when the model is corrupted", async () => {
    const copy = join(dir, "corrupt-model");
    await cp(bundle, copy, { recursive: true });
    const model = await readFile(join(copy, "model.gguf"));
    model.writeUInt8(model.readUInt8(model.length - 1) ^ 0xff, model.length - 1);
    await writeFile(join(copy, "model.gguf"), model);
    const run = await runCli(["verify-bundle", copy]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/model\.gguf: sha256 [0-9a-f]{64} does not match SHA256SUMS/);
    expect(run.stdout).toContain("verify-bundle: FAILED");
  });

  it("fails naming agent.yaml when the manifest is edited", async () => {
    const copy = join(dir, "edited-manifest");
    await cp(bundle, copy, { recursive: true });
    const yaml = await readFile(join(copy, "agent.yaml"), "utf8");
    await writeFile(join(copy, "agent.yaml"), yaml.replace("temperature: 0", "temperature: hot"));
    const run = await runCli(["verify-bundle", copy, "--json"]);
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout) as {
      passed: boolean;
      integrity: { problems: Array<{ file: string; message: string }> };
    };
    expect(result.passed).toBe(false);
    expect(result.integrity.problems.map((p) => p.file)).toEqual(["agent.yaml", "agent.yaml"]);
    expect(result.integrity.problems[1]!.message).toContain("/runtime/temperature: must be number");
  });

  it("checks the model's own metadata even when SHA256SUMS was rewritten to match", async () => {
    const copy = join(dir, "resummed");
    await cp(bundle, copy, { recursive: true });
    const yaml = await readFile(join(copy, "agent.yaml"), "utf8");
    await writeFile(join(copy, "agent.yaml"), yaml.replace("id: tiny", "id: Qwen/Qwen2.5-7B-Instruct"));
    await writeFile(
      join(copy, "SHA256SUMS"),
      execFileSync("sh", ["-c", "sha256sum $(cut -c67- SHA256SUMS)"], { cwd: copy }),
    );
    const run = await runCli(["verify-bundle", copy]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      "model.gguf: metadata base model tiny differs from agent.yaml /baseModel/id Qwen/Qwen2.5-7B-Instruct",
    );
  });

  it("refuses a model trained on another toolset, or a folder that holds something else", async () => {
    const other = await fixtureWorkdir(join(dir, "other"), { toolsetHash: `sha256:${"0".repeat(64)}` });
    const run = await runCli(["pack", "--workdir", other.workdir, "--output", join(dir, "other-bundle")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `was trained on toolset sha256:${"0".repeat(64)}, but ${other.toolsPath} has ${other.toolsetHash}`,
    );

    const busy = join(dir, "busy");
    await mkdir(busy);
    await writeFile(join(busy, "notes.txt"), "keep me");
    const refused = await runCli(["pack", "--workdir", fx.workdir, "--output", busy]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("refusing to replace it");
    expect(await readdir(busy)).toEqual(["notes.txt"]);
  });

  it("says which chat templates it supports when the model's is another", async () => {
    const chatml =
      "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}<tool_call><tool_response>";
    const other = await fixtureWorkdir(join(dir, "chatml"), { chatTemplate: chatml });
    const run = await runCli(["pack", "--workdir", other.workdir, "--output", join(dir, "chatml-bundle")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unsupported chat template format");
    expect(run.stderr).toContain("supported: Hermes/Qwen2.5-style templates");
    expect(await readdir(dir)).not.toContain("chatml-bundle");
  });
});

describe("bundle README", () => {
  it("shows untrusted tool text inert", () => {
    expect(escapeMarkdown("Use <script>x</script> | [click](https://evil.example) *now*\n# heading")).toBe(
      "Use &lt;script>x&lt;/script> \\| \\[click\\](https\\://evil.example) \\*now\\* # heading",
    );
    const manifest = {
      name: "x",
      version: "1",
      server: { name: "s", version: "1" },
      baseModel: { id: null, revision: null },
      model: { quantization: null },
      toolset: { hash: "sha256:0" },
      dataset: { trainSamples: 1 },
      validation: { status: "not run" },
      benchmark: { status: "not run" },
      runtime: { contextSize: 4096 },
    } as unknown as AgentManifest;
    const readme = bundleReadme(manifest, [
      { name: "evil|tool", description: "a\n| b | c |", inputSchema: { type: "object" } },
    ]);
    expect(readme).toContain("| evil\\|tool | a \\| b \\| c \\| | none |");
    expect(readme).toContain("this model's quality is not measured");
  });
});
