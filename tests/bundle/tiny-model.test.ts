import { copyFile, cp, readFile } from "node:fs/promises";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";

import type { AgentManifest } from "../../src/bundle/manifest.js";
import { ensureTinyModel, type TinyModel } from "../helpers/tiny-model.js";
import { runCli, tempDir } from "../support/cli.js";
import { TINY_TEMPLATE } from "./helpers.js";

describe("pack and verify-bundle on the real tiny model", () => {
  let tiny: TinyModel;
  let dir: string;
  let cleanup: () => Promise<void>;
  let bundle: string;

  beforeAll(async () => {
    tiny = await ensureTinyModel();
    ({ dir, cleanup } = await tempDir());
    // A copy of the shared work directory, so recording PACKAGING in its state.json touches nothing shared.
    const workdir = join(dir, "work");
    await cp(join(tiny.workdir, "data"), join(workdir, "data"), { recursive: true });
    await copyFile(tiny.toolsPath, join(workdir, "tools.json"));
    await copyFile(join(tiny.workdir, "state.json"), join(workdir, "state.json"));
    await copyFile(tiny.gguf, join(workdir, "model.gguf"));
    bundle = join(dir, "bundle");
    const packed = await runCli(["pack", "--workdir", workdir, "--output", bundle, "--name", "tiny-memory"]);
    expect(packed.code, packed.stderr).toBe(0);
  }, 20 * 60_000);
  afterAll(() => cleanup?.());

  it("packs the model with its provenance, and verify-bundle passes", async () => {
    const manifest = parse(await readFile(join(bundle, "agent.yaml"), "utf8")) as AgentManifest;
    expect(manifest).toMatchObject({
      name: "tiny-memory",
      baseModel: { id: "tiny" },
      model: { quantization: "q8_0" },
      training: { configHash: tiny.trainResult.trainingConfigHash, profile: tiny.trainResult.profile },
      runtime: { stop: ["<|im_end|>"], chatFormat: "hermes" },
    });
    expect(manifest.training.configHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    const template = JSON.parse(await readFile(join(bundle, "prompt_template.json"), "utf8")) as {
      chatTemplate: string;
    };
    expect(template.chatTemplate).toBe(await readFile(TINY_TEMPLATE, "utf8"));
    const run = await runCli(["verify-bundle", bundle]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
  });

  it("runs the smoke test on the first held-out prompts and gates on agent.yaml's thresholds", async () => {
    const run = await runCli(["verify-bundle", bundle, "--quick", "3", "--json"]);
    const result = JSON.parse(run.stdout) as {
      passed: boolean;
      smoke: { prompts: number; passed: boolean; metrics: Record<string, number | null>; failures: unknown[] };
    };
    expect(result.smoke.prompts).toBe(3);
    expect(Object.keys(result.smoke.metrics)).toContain("toolCallParseRate");
    expect(result.smoke.passed).toBe(result.smoke.failures.length === 0);
    expect(run.code).toBe(result.smoke.passed ? 0 : 1);
    expect(run.stderr).toContain("smoke test: 3/3");
  });
});
