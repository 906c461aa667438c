import { cp, mkdir, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { exists } from "../../src/core/files.js";
import { runComposite, type StepRun } from "../support/composite.js";
import { FakeCacheService } from "../support/fakes/cache-service.js";
import { FakeGitHub } from "../support/fakes/github-api.js";
import { FIXTURES, ROOT } from "./runner.js";

const TOKEN = "ghs_fakeTokenForTheLoopbackApi0004";
let gh: FakeGitHub;
let cache: FakeCacheService;
let dir: string;

/**
 * The action as `uses:` checks it out, without build/ or bin/: dist/, action.yml, the package files,
 * schemas/ and the trainer's sources. node_modules (node-llama-cpp and its binaries, which the
 * set-up step would otherwise `npm ci`) and the trainer's venv come from this repository.
 */
async function checkout(into: string): Promise<string> {
  const action = join(into, "action");
  for (const entry of ["action.yml", "package.json", "package-lock.json", "dist", "schemas"])
    await cp(join(ROOT, entry), join(action, entry), { recursive: true });
  await cp(join(ROOT, "python"), join(action, "python"), {
    recursive: true,
    filter: (src) => ![".venv", "__pycache__", ".pytest_cache"].includes(basename(src)) && !src.endsWith(".egg-info"),
  });
  await symlink(join(ROOT, "node_modules"), join(action, "node_modules"));
  return action;
}

beforeAll(async () => {
  gh = await new FakeGitHub("octo-org", "weather-mcp", TOKEN).start();
  cache = await new FakeCacheService("fake-runtime-token").start();
  dir = await mkdtemp(join(tmpdir(), "mcp-forge-pipeline-"));
});
afterAll(async () => {
  await gh.stop();
  await cache.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("the whole composite, as a runner runs action.yml, from a checkout with only dist/", () => {
  it(
    "tools-file, tiny model on CPU: every stage passes, one PR comment, bundle and reports",
    { timeout: 1_200_000 },
    async () => {
      const action = await checkout(dir);
      expect(await exists(join(action, "build"))).toBe(false);
      const workspace = join(dir, "workspace");
      await mkdir(join(dir, "temp"), { recursive: true });
      await mkdir(workspace, { recursive: true });
      await cp(join(ROOT, "tests", "fixtures", "data", "tools.json"), join(workspace, "tools.json"));
      await cp(join(ROOT, "tests", "fixtures", "human", "memory.jsonl"), join(workspace, "human.jsonl"));
      const log: string[] = [];
      const run = await runComposite(
        {
          actionPath: action,
          dir,
          token: TOKEN,
          env: {
            PATH: process.env.PATH ?? "",
            HOME: process.env.HOME ?? dir,
            GITHUB_ACTIONS: "true",
            GITHUB_WORKSPACE: workspace,
            RUNNER_TEMP: join(dir, "temp"),
            GITHUB_EVENT_PATH: join(FIXTURES, "pull_request.json"),
            GITHUB_EVENT_NAME: "pull_request",
            GITHUB_REF: "refs/pull/7/merge",
            GITHUB_SHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
            GITHUB_REPOSITORY: "octo-org/weather-mcp",
            GITHUB_RUN_ID: "5151",
            GITHUB_RUN_ATTEMPT: "1",
            GITHUB_API_URL: gh.url,
            ...cache.env(),
          },
          inputs: {
            "tools-file": "tools.json",
            model: "tiny",
            profile: "fast_dev",
            samples: "200",
            eval: "human.jsonl",
            "train-settings": "tiny.pretrain_epochs=1\nmax_steps=8\nsave_steps=4",
            thresholds:
              "toolCallParseRate: 0\nschemaConformance: 0\ntoolSelectionAccuracy: 0\nnoToolCorrectness: 0\nerrorHandlingRate: 0\nloopCompletionRate: 0",
            python: join(ROOT, "python", ".venv", "bin", "python"),
          },
        },
        (step: StepRun) =>
          log.push(
            `${step.name}: ${step.outcome} (${step.seconds.toFixed(1)} s)\n${step.outcome === "failure" ? step.log.slice(-3000) : ""}`,
          ),
      );
      const outcome = Object.fromEntries(run.steps.map((s) => [s.id, s.outcome]));
      expect(outcome, log.join("\n")).toMatchObject({
        setup: "success",
        inspect: "success",
        drift: "success",
        generate: "success",
        train: "success",
        checkpoints: "success",
        export: "success",
        validate: "success",
        benchmark: "success",
        pack: "success",
        report: "success",
        release: "skipped",
      });
      // Validation and the benchmark ran the stub server (no live server with tools-file) through dist/cli.
      const validation = JSON.parse(
        await readFile(join(workspace, ".mcp-forge", "reports", "validation.json"), "utf8"),
      ) as Record<string, unknown>;
      expect(JSON.stringify(validation)).toMatch(/stub/);
      expect(run.outputs.passed).toBe("true");
      expect(run.outputs["toolset-hash"]).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(await exists(join(run.outputs["bundle-path"]!, "model.gguf"))).toBe(true);
      expect(run.outputs["benchmark-json"]).toBe(join(workspace, ".mcp-forge", "reports", "benchmark.json"));
      // The eval input: validate and benchmark graded on the hand-written set, not the generated split.
      const bench = JSON.parse(await readFile(run.outputs["benchmark-json"]!, "utf8")) as { evalSet: string };
      expect(bench.evalSet).toBe(join(workspace, "human.jsonl"));
      const comments = gh.comments.get(7) ?? [];
      expect(comments).toHaveLength(1);
      expect(run.outputs["comment-url"]).toBe(comments[0]!.html_url);
      expect(comments[0]!.body).toContain("## ✅ MCP-Forge: passed");
      expect(comments[0]!.body).toContain("<summary>Per-tool results (9 tools)</summary>");
      // The thresholds input (every gated metric at 0) is what the threshold column shows, not the defaults.
      expect(comments[0]!.body).toMatch(/^\| toolSelectionAccuracy \| [\d.]+% \|.*\| ≥ 0\.0% \| ✅ \|$/m);
      expect(comments[0]!.body).toMatch(/^\| argumentAccuracy \|.*\| reported \| {2}\|$/m);
      expect(run.summary).toContain(comments[0]!.body.trim());
      expect(cache.entries.filter((e) => e.finalized).map((e) => e.key.replace(/-[0-9a-f]{24}.*$/, ""))).toEqual([
        "mcp-forge-data",
        "mcp-forge-lora",
      ]);
    },
  );
});
