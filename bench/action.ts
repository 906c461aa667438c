import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { promisify } from "node:util";

import { PACKAGE_ROOT } from "../core/python.js";
import { type CompositeRun, runComposite } from "../tests/support/composite.js";
import { FakeCacheService } from "../tests/support/fakes/cache-service.js";
import { FakeGitHub } from "../tests/support/fakes/github-api.js";
import type { Bench } from "./index.js";

const exec = promisify(execFile);
const RUNS = 5;
const SERVERS = join(PACKAGE_ROOT, "node_modules", "@modelcontextprotocol");
const EVERYTHING = join(SERVERS, "server-everything", "dist", "index.js");
const MEMORY = join(SERVERS, "server-memory", "dist", "index.js");
const TOKEN = "ghs_benchTokenForTheLoopbackApi0001";
const PR_EVENT = join(PACKAGE_ROOT, "tests", "fixtures", "github", "pull_request.json");

/**
 * The action as `uses:` checks it out: dist/, action.yml, the package files, schemas/ and the
 * trainer's sources, no build/. `nodeModules`: link this repository's node_modules, as the
 * self-test workflow has them (its `npm ci` runs in the checkout that `uses: ./` names).
 */
async function checkout(into: string, nodeModules: boolean): Promise<string> {
  const action = join(into, "action");
  for (const entry of ["action.yml", "package.json", "package-lock.json", "dist", "schemas"])
    await cp(join(PACKAGE_ROOT, entry), join(action, entry), { recursive: true });
  await cp(join(PACKAGE_ROOT, "python"), join(action, "python"), {
    recursive: true,
    filter: (src) => ![".venv", "__pycache__", ".pytest_cache"].includes(basename(src)) && !src.endsWith(".egg-info"),
  });
  if (nodeModules) await symlink(join(PACKAGE_ROOT, "node_modules"), join(action, "node_modules"));
  return action;
}

/** A fresh runner for one job (new workspace and RUNNER_TEMP), running the composite with these inputs. */
async function job(
  dir: string,
  action: string,
  inputs: Record<string, string>,
  env: Record<string, string>,
): Promise<CompositeRun> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, "ws"), { recursive: true });
  await mkdir(join(dir, "temp"));
  return runComposite({
    actionPath: action,
    dir,
    token: TOKEN,
    inputs,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? dir,
      GITHUB_ACTIONS: "true",
      GITHUB_WORKSPACE: join(dir, "ws"),
      RUNNER_TEMP: join(dir, "temp"),
      GITHUB_EVENT_PATH: PR_EVENT,
      GITHUB_EVENT_NAME: "pull_request",
      GITHUB_REF: "refs/pull/7/merge",
      GITHUB_SHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
      GITHUB_REPOSITORY: "octo-org/weather-mcp",
      GITHUB_RUN_ATTEMPT: "1",
      ...env,
    },
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ran = (run: CompositeRun) => run.steps.filter((s) => s.outcome !== "skipped");

function check(run: CompositeRun, what: string): void {
  const failed = run.steps.filter((s) => s.outcome === "failure");
  if (failed.length > 0)
    throw new Error(`${what}: ${failed.map((s) => `${s.name} failed:\n${s.log.slice(-2000)}`).join("\n")}`);
}

/**
 * `mode: drift` against server-everything, as the README's drift workflow runs it: the composite's
 * steps from a checkout of the action without node_modules (node-llama-cpp is not needed), the
 * last release (bundle archive, its tools.json, SHA256SUMS) on the loopback GitHub fake.
 */
export function actionDriftBench(): Bench {
  return {
    name: "action-drift",
    async run() {
      const dir = await mkdtemp(join(tmpdir(), "mcp-forge-bench-drift-"));
      const gh = await new FakeGitHub("octo-org", "weather-mcp", TOKEN).start();
      try {
        const action = await checkout(dir, false);
        const inputs = { mode: "drift", "server-command": `node ${EVERYTHING} stdio`, comment: "false" };
        const env = { GITHUB_API_URL: gh.url, GITHUB_RUN_ID: "1" };
        const first = await job(join(dir, "job"), action, inputs, env);
        check(first, "drift job");
        const tools = await readFile(join(dir, "job", "ws", ".mcp-forge", "tools.json"));
        gh.releases.push({
          id: 1,
          tag_name: "v1.0.0",
          name: "v1.0.0",
          assets: [
            {
              id: 2,
              name: "mcp-forge-bundle-v1.0.0.tools.json",
              size: tools.length,
              content_type: "application/json",
              data: tools,
            },
          ],
        });
        const runs: CompositeRun[] = [];
        for (let i = 0; i < RUNS; i++) {
          const run = await job(join(dir, "job"), action, inputs, env);
          check(run, "drift job");
          if (run.outputs.passed !== "true") throw new Error("drift job: the toolset should match the planted release");
          runs.push(run);
        }
        const figures: Record<string, string | number> = { runs: RUNS };
        for (const step of ran(runs[0]!))
          figures[`${step.name} (median)`] =
            `${median(runs.map((r) => r.steps.find((s) => s.id === step.id)!.seconds * 1000)).toFixed(0)} ms`;
        figures["total of the steps (median, incl. Node start-up per step)"] =
          `${median(runs.map((r) => ran(r).reduce((t, s) => t + s.seconds * 1000, 0))).toFixed(0)} ms`;
        return figures;
      } finally {
        await gh.stop();
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * The self-test workflow's `uses: ./` step, run locally through action.yml's steps: the same inputs
 * (server-memory, the tiny model on CPU, fast_dev, 200 samples, gated thresholds at 0), twice on
 * fresh runners sharing the loopback cache service: cold, then warm. One deviation: the input
 * python names this repository's venv, where the workflow lets the action build one.
 */
export function actionSelfTestBench(): Bench {
  return {
    name: "action-self-test",
    async run() {
      const dir = await mkdtemp(join(tmpdir(), "mcp-forge-bench-self-test-"));
      const gh = await new FakeGitHub("octo-org", "weather-mcp", TOKEN).start();
      const cache = await new FakeCacheService("bench-runtime-token").start();
      try {
        const action = await checkout(dir, true);
        const inputs = {
          "server-command": `node ${MEMORY}`,
          model: "tiny",
          profile: "fast_dev",
          samples: "200",
          release: "false",
          "upload-bundle": "true",
          thresholds:
            "toolCallParseRate: 0\nschemaConformance: 0\ntoolSelectionAccuracy: 0\nnoToolCorrectness: 0\nerrorHandlingRate: 0\nloopCompletionRate: 0",
          python: join(PACKAGE_ROOT, "python", ".venv", "bin", "python"),
        };
        const env = { GITHUB_API_URL: gh.url, ...cache.env() };
        // Both jobs at the same workspace path, as on hosted runners: @actions/cache versions an entry by its paths.
        const cold = await job(join(dir, "job"), action, inputs, { ...env, GITHUB_RUN_ID: "101" });
        check(cold, "cold job");
        const warm = await job(join(dir, "job"), action, inputs, { ...env, GITHUB_RUN_ID: "102" });
        check(warm, "warm job");
        const comment = join(tmpdir(), "mcp-forge-bench-self-test-comment.md");
        await writeFile(comment, gh.comments.get(7)?.at(-1)?.body ?? "");
        const figures: Record<string, string | number> = {};
        for (const step of ran(cold)) {
          const again = warm.steps.find((s) => s.id === step.id)!;
          figures[step.name] =
            `cold ${step.seconds.toFixed(1)} s · warm ${again.outcome === "skipped" ? "skipped" : `${again.seconds.toFixed(1)} s`}`;
        }
        const total = (run: CompositeRun) =>
          ran(run)
            .reduce((t, s) => t + s.seconds, 0)
            .toFixed(1);
        figures.total = `cold ${total(cold)} s · warm ${total(warm)} s`;
        const log = (run: CompositeRun, id: string) => run.steps.find((s) => s.id === id)?.log ?? "";
        figures["warm cache look-ups"] = ["generate", "train"]
          .flatMap((id) => log(warm, id).match(/cache [^\n]*: (hit|partial hit|miss)[^·\n]*/g) ?? [])
          .join("; ");
        figures["PR comment (warm job)"] = comment;
        figures["commit"] = (await exec("git", ["rev-parse", "--short", "HEAD"], { cwd: PACKAGE_ROOT })).stdout.trim();
        return figures;
      } finally {
        await gh.stop();
        await cache.stop();
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
