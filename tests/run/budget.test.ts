import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";

import { CLI, ROOT } from "../support/cli.js";

/** Its main tool takes thoughts of 600–900 characters, like server-sequential-thinking's. */
const SERVER = `node ${join(ROOT, "tests", "fixtures", "servers", "long-args.mjs")}`;
const BUDGET_MINUTES = 1;
/**
 * What the budget cannot shorten: the stages after training, whose share of a one-minute budget is
 * seconds (export, then validation and benchmark of a barely trained model on the 20 held-out prompts
 * of 200 samples, each running to the reply's token limit: a minute or two on two loaded cores).
 */
const MARGIN_MINUTES = 3;

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

interface RunJson {
  passed: boolean;
  bundle: string | null;
  stages: Array<{ stage: string; status: string; command: string }>;
  training?: { fraction: number; cut: string | null; estimateError: number | null };
}

describe("mcp-forge run --time-budget", () => {
  it("ends within the budget plus the margin on a server with long arguments, with a bundle that loads and the fraction trained", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mcp-forge-budget-run-"));
    dirs.push(dir);
    const started = performance.now();
    const run = await execa(
      "node",
      [
        CLI,
        "run",
        "--workdir",
        dir,
        "--server",
        SERVER,
        "--model",
        "tiny",
        "--samples",
        "200",
        "--time-budget",
        String(BUDGET_MINUTES),
        "--json",
      ],
      {
        reject: false,
        cwd: dir,
      },
    );
    const minutes = (performance.now() - started) / 60_000;
    const result = JSON.parse(run.stdout) as RunJson;
    expect(
      result.stages.filter((s) => s.status === "failed"),
      run.stderr,
    ).toEqual([]);
    const report = JSON.parse(await readFile(join(dir, "reports", "train_report.json"), "utf8")) as {
      fractionTrained: number;
      budget: { estimateError: number; budgetSeconds: number; plannedAtSeconds: number };
    };
    // On a heavily loaded machine the trainer's start-up (imports, tokenizer, measuring) can outlast
    // training's share of the budget: no budget shortens that, so what it overran is added.
    const startUpOverrun = Math.max(0, report.budget.plannedAtSeconds - report.budget.budgetSeconds) / 60;
    expect(minutes, JSON.stringify(report.budget)).toBeLessThan(BUDGET_MINUTES + MARGIN_MINUTES + startUpOverrun);

    // 200 samples of long thoughts are far more than a minute of training: the budget cut it, and says so.
    expect(result.training?.fraction).toBeGreaterThan(0);
    expect(result.training?.fraction).toBeLessThan(1);
    expect(run.stderr).toMatch(/estimate: [\d,]+ tokens to train at [\d,]+ tokens\/s \(measured on this machine\)/);
    expect(run.stderr).toMatch(/training took \d+\.\d min against an estimate of \d+\.\d min \([+−]\d+ %\)/);
    expect(run.stderr).toMatch(
      /the time budget cut training to \d+ % of the recipe; for all of it: mcp-forge run --time-budget \d+/,
    );

    expect(report.fractionTrained).toBe(result.training?.fraction);
    expect(typeof report.budget.estimateError).toBe("number");
    const manifest = parse(await readFile(join(dir, "bundle", "agent.yaml"), "utf8")) as {
      training: { fractionTrained: number; timeBudgetMinutes: number };
    };
    expect(manifest.training.fractionTrained).toBe(result.training?.fraction);
    expect(manifest.training.timeBudgetMinutes).toBeGreaterThan(0);

    const verify = await execa("node", [CLI, "verify-bundle", join(dir, "bundle"), "--quick", "2", "--json"], {
      reject: false,
    });
    const verified = JSON.parse(verify.stdout) as {
      integrity: { problems: unknown[] };
      smoke: { prompts: number } | null;
    };
    expect(verified.integrity.problems).toEqual([]);
    expect(verified.smoke?.prompts, verify.stderr).toBe(2);
  }, 900_000);

  it("--dry-run prepares the data, prints the estimate and trains nothing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mcp-forge-budget-dry-"));
    dirs.push(dir);
    const run = await execa(
      "node",
      [CLI, "run", "--workdir", dir, "--server", SERVER, "--model", "tiny", "--samples", "200", "--dry-run", "--json"],
      { reject: false, cwd: dir },
    );
    expect(run.exitCode, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as RunJson & { dryRun: boolean };
    expect(result.dryRun).toBe(true);
    expect(result.stages.map((s) => s.stage)).toEqual(["INSPECTING", "SYNTHESIZING", "QC_VALIDATING", "TRAINING"]);
    expect(run.stderr).toMatch(/estimate: [\d,]+ tokens to train at [\d,]+ tokens\/s/);
    const state = JSON.parse(await readFile(join(dir, "state.json"), "utf8")) as { stages: Record<string, unknown> };
    expect(state.stages.TRAINING).toBeUndefined();
    await expect(readFile(join(dir, "model", "train-config.json"))).rejects.toThrow();
  }, 600_000);

  it("the embedded default's dry run plans SmolLM2 on 300 samples, leaving its 15 minutes room to grade the held-out prompts", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mcp-forge-budget-default-"));
    dirs.push(dir);
    const run = await execa("node", [CLI, "run", "--workdir", join(dir, ".mcp-forge"), "--dry-run", "--json"], {
      reject: false,
      cwd: dir,
    });
    expect(run.exitCode, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as RunJson;
    expect(result.stages.at(-1)?.command).toContain("--model smollm2-135m");
    const lines = async (file: string) =>
      (await readFile(join(dir, ".mcp-forge", "data", file), "utf8")).trim().split("\n").length;
    expect(await lines("train.jsonl")).toBe(300);
    const prompts = await lines("eval.jsonl");
    // 15 minutes less export and packing (1 min) and one grading of every held-out prompt at 7 s (the
    // benchmark takes validation's runs; docs/benchmarks.md, "The main command"), less the seconds the data took.
    const planned = Number(/--time-budget (\d+(?:\.\d+)?)/.exec(result.stages.at(-1)!.command)?.[1]);
    const expected = 15 - 1 - (prompts * 7) / 60;
    expect(planned, result.stages.at(-1)?.command).toBeLessThanOrEqual(expected);
    expect(planned, result.stages.at(-1)?.command).toBeGreaterThan(expected - 0.5);
  }, 600_000);
});
