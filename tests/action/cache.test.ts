import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { FakeCacheService } from "../support/fakes/cache-service.js";
import { FIXTURES, Job, ROOT } from "./runner.js";

const TOOLS = join(ROOT, "tests", "fixtures", "data", "tools.json");
let service: FakeCacheService;

beforeAll(async () => {
  service = await new FakeCacheService("fake-runtime-token").start();
});
afterAll(async () => {
  await service.stop();
  await Job.cleanup();
});

/** A fresh runner (nothing on disk from earlier jobs) whose workspace sits at the same path, as on hosted runners. */
const PR = { event: "pull_request.json", eventName: "pull_request", ref: "refs/pull/7/merge" };
const MAIN = { event: "push_main.json", eventName: "push", ref: "refs/heads/main" };

async function generateJob(workspace: string, tools: string, env: Record<string, string> = {}, event = PR) {
  await rm(workspace, { recursive: true, force: true });
  const job = await Job.create({
    ...event,
    workspace,
    env: { ...service.env(), INPUT_TOOLS_FILE: "tools.json", INPUT_SAMPLES: "200", ...env },
  });
  await writeFile(join(workspace, "tools.json"), tools);
  expect((await job.step("setup")).code).toBe(0);
  expect((await job.step("inspect")).code).toBe(0);
  return { job, generate: await job.step("generate") };
}

describe("caches (@actions/cache against the cache service v2 on loopback)", () => {
  it("a second run restores the dataset and skips generation; a changed tool description misses", async () => {
    const workspace = join(
      (await Job.create({ event: "pull_request.json", eventName: "pull_request", ref: "" })).dir,
      "ws",
    );
    const tools = await readFile(TOOLS, "utf8");

    const first = await generateJob(workspace, tools);
    expect(first.generate.code, first.generate.stderr).toBe(0);
    expect(first.generate.stdout).toMatch(/cache dataset: miss · mcp-forge-data-/);
    expect(first.generate.stdout).toMatch(/cache dataset: saved · mcp-forge-data-/);
    const train = await readFile(join(workspace, ".mcp-forge", "data", "train.jsonl"), "utf8");
    expect(service.entries.filter((e) => e.finalized)).toHaveLength(1);

    const second = await generateJob(workspace, tools);
    expect(second.generate.code).toBe(0);
    expect(second.generate.stdout).toMatch(/cache dataset: hit · mcp-forge-data-/);
    expect(second.generate.stdout).toContain("::notice title=MCP-Forge cache hit::dataset restored from the cache");
    expect(second.generate.stderr).not.toMatch(/QC passed/);
    expect(await readFile(join(workspace, ".mcp-forge", "data", "train.jsonl"), "utf8")).toBe(train);
    const report = await second.job.step("report");
    expect(report.summary).toMatch(/Cache: 1 of 1 look-ups hit/);

    const changed = JSON.parse(tools) as { tools: Array<{ description: string }> };
    changed.tools[0]!.description += " (now with dates)";
    const third = await generateJob(workspace, JSON.stringify(changed));
    expect(third.generate.code).toBe(0);
    expect(third.generate.stdout).toMatch(/cache dataset: miss · mcp-forge-data-/);
    expect(service.entries.filter((e) => e.finalized)).toHaveLength(2);
  });

  it("LoRA checkpoints of an interrupted job are saved by the always() step and restored by prefix in the next job", async () => {
    const workspace = join(
      (await Job.create({ event: "pull_request.json", eventName: "pull_request", ref: "" })).dir,
      "ws",
    );
    const tools = await readFile(TOOLS, "utf8");
    // A "Python" that exits at once: train fails as an interrupted run would, after its checkpoint was written.
    const noTrainer = { INPUT_PYTHON: "/bin/false", INPUT_MODEL: "tiny", INPUT_PROFILE: "fast_dev" };
    const first = await generateJob(workspace, tools, noTrainer);
    const checkpoint = join(workspace, ".mcp-forge", "model", "checkpoints", "checkpoint-40");
    await mkdir(checkpoint, { recursive: true });
    await writeFile(join(checkpoint, "adapter_model.safetensors"), "weights after 40 steps");
    const train = await first.job.step("train", { GITHUB_RUN_ID: "1001" });
    expect(train.code).not.toBe(0);
    expect(train.stdout).toMatch(/cache LoRA checkpoints: miss · mcp-forge-lora-[0-9a-f]+-1001-1/);
    const key = train.outputs["checkpoint-key"]!;
    const saved = await first.job.step("checkpoints", { CHECKPOINT_KEY: key });
    expect(saved.stdout).toContain(`cache LoRA checkpoints: saved · ${key}`);

    const second = await generateJob(workspace, tools, noTrainer);
    const resumed = await second.job.step("train", { GITHUB_RUN_ID: "1002" });
    expect(resumed.stdout).toContain(`cache LoRA checkpoints: partial hit (${key})`);
    expect(resumed.stdout).toContain(
      `::notice title=MCP-Forge cache hit::resuming training from the cached checkpoints (${key})`,
    );
    expect(await readFile(join(checkpoint, "adapter_model.safetensors"), "utf8")).toBe("weights after 40 steps");
  });

  it("baseline auto: no baseline before the default branch has a passing run; afterwards a PR restores main's benchmark", async () => {
    const workspace = join((await Job.create({ ...PR })).dir, "ws");
    const tools = await readFile(TOOLS, "utf8");
    const plant = (job: Job) =>
      copyFile(join(FIXTURES, "benchmark-pass.json"), join(job.workspace, ".mcp-forge", "reports", "benchmark.json"));

    const early = await generateJob(workspace, tools);
    const none = await early.job.step("baseline");
    expect(none.stdout).toContain("baseline: no baseline yet (no passing run on main with this toolset and data)");
    await plant(early.job);
    expect((await early.job.step("gate")).code).toBe(0);
    expect((await early.job.step("report")).summary).toContain("baseline: no baseline yet");
    expect(service.entries.some((e) => e.key.startsWith("mcp-forge-baseline-"))).toBe(false);

    const main = await generateJob(workspace, tools, {}, MAIN);
    await plant(main.job);
    const gate = await main.job.step("gate");
    expect(gate.code).toBe(0);
    expect(gate.stdout).toMatch(/cache baseline: saved · mcp-forge-baseline-main-mcp-forge-data-[0-9a-f]+-6dcb09b5/);

    const pr = await generateJob(workspace, tools);
    const found = await pr.job.step("baseline", { GITHUB_SHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821" });
    expect(found.stdout).toMatch(/cache baseline: partial hit \(mcp-forge-baseline-main-/);
    expect(found.stdout).toContain("baseline: main (last passing run)");
    const restored = JSON.parse(
      await readFile(join(workspace, ".mcp-forge", "baseline", "benchmark.json"), "utf8"),
    ) as { metrics: Record<string, number> };
    expect(restored.metrics.toolSelectionAccuracy).toBe(0.934);
  });
});
