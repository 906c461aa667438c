import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";

import { CLI, ROOT } from "../support/cli.js";

/** Requests written by hand the way people ask (never used for training): what the shipped model is graded on. */
const HUMAN_MEMORY = join(ROOT, "tests", "fixtures", "human", "memory.jsonl");
/** Small enough to train in a minute on 2 cores; the checkpoints every 2 steps give `--resume` something to find. */
const FAST = [
  "--model",
  "tiny",
  "--samples",
  "200",
  "--set",
  "tiny.pretrain_epochs=1",
  "--set",
  "max_steps=8",
  "--set",
  "save_steps=2",
];

interface RunJson {
  passed: boolean;
  bundle: string | null;
  stages: Array<{ stage: string; status: string; exitCode: number }>;
}

const dirs: string[] = [];
async function workdir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "mcp-forge-run-"));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const run = (dir: string, ...extra: string[]) =>
  execa("node", [CLI, "run", "--workdir", dir, ...FAST, "--json", ...extra], {
    reject: false,
    cwd: dir,
    timeout: 900_000,
  });

describe("mcp-forge run on the embedded server with the tiny model", () => {
  it("goes from an empty work directory to a verified bundle graded on hand-written requests, then does no work the second time", async () => {
    const dir = await workdir();
    const first = await run(dir, "--eval", HUMAN_MEMORY);
    const result = JSON.parse(first.stdout) as RunJson;
    expect(result.stages.map((s) => s.stage)).toEqual([
      "INSPECTING",
      "SYNTHESIZING",
      "QC_VALIDATING",
      "TRAINING",
      "EXPORTING",
      "VALIDATING",
      "BENCHMARKING",
      "PACKAGING",
    ]);
    expect(
      result.stages.filter((s) => s.status === "failed"),
      first.stderr,
    ).toEqual([]);
    // A tiny model trained for 8 steps may miss the release thresholds: then run still packs and exits 1.
    expect(first.exitCode).toBe(result.passed ? 0 : 1);
    expect(result.bundle).toBe(join(dir, "bundle"));
    const files = (await readdir(join(dir, "bundle"))).sort();
    expect(files).toEqual([
      "Modelfile",
      "README.md",
      "SHA256SUMS",
      "agent.yaml",
      "model.gguf",
      "prompt_template.json",
      "tests",
      "tools.json",
    ]);

    // Every stage's record names what it wrote with the hash of what is on disk (the contract's state.json).
    const state = JSON.parse(await readFile(join(dir, "state.json"), "utf8")) as {
      stages: Record<string, { status: string; outputs: Record<string, string> }>;
    };
    expect(Object.keys(state.stages)).toHaveLength(8);
    for (const [stage, record] of Object.entries(state.stages)) {
      expect(Object.keys(record.outputs), stage).not.toHaveLength(0);
      for (const [path, hash] of Object.entries(record.outputs)) {
        const file = resolve(dir, path);
        const hashed = stage === "PACKAGING" ? join(file, "SHA256SUMS") : file;
        expect(hash, `${stage} ${path}`).toBe(
          `sha256:${createHash("sha256")
            .update(await readFile(hashed))
            .digest("hex")}`,
        );
      }
    }

    const verify = await execa("node", [CLI, "verify-bundle", join(dir, "bundle"), "--json"], { reject: false });
    expect(verify.exitCode, verify.stderr).toBe(0);

    // The quality figure: the shipped model's scores on the hand-written memory requests, recorded and reported.
    const bench = JSON.parse(await readFile(join(dir, "reports", "benchmark.json"), "utf8")) as {
      evalSet: string;
      metrics: Record<string, number | null>;
      runsFrom: string;
      runs: unknown[];
    };
    expect(bench.evalSet).toBe(HUMAN_MEMORY);
    // Graded once: the benchmark reports validation's runs against the live server.
    const validation = join(dir, "reports", "validation.json");
    expect(bench.runsFrom).toBe(validation);
    expect(bench.runs).toEqual((JSON.parse(await readFile(validation, "utf8")) as { runs: unknown[] }).runs);
    expect(await readFile(join(dir, "bundle", "agent.yaml"), "utf8")).toMatch(/file: memory\.jsonl/);
    const scores = Object.entries(bench.metrics).map(([k, v]) => `${k} ${v === null ? "–" : v.toFixed(3)}`);
    process.stderr.write(
      `shipped model (embedded server, tiny model, test recipe) on the hand-written memory requests: ${scores.join(", ")}\n`,
    );

    const second = await run(dir, "--eval", HUMAN_MEMORY);
    const again = JSON.parse(second.stdout) as RunJson;
    expect(again.stages.map((s) => s.status)).toEqual(Array(8).fill("skipped"));
    expect(second.exitCode).toBe(first.exitCode);
  }, 1_200_000);

  it("resumes training from its last checkpoint after a SIGTERM", async () => {
    const dir = await workdir();
    // No SIGKILL 5 s after the SIGTERM (execa's default): the trainer may need longer to checkpoint on a busy machine.
    const child = execa("node", [CLI, "run", "--workdir", dir, ...FAST], {
      reject: false,
      cwd: dir,
      all: true,
      forceKillAfterDelay: false,
    });
    let log = "";
    const checkpoint = await new Promise<number>((resolve, reject) => {
      child.all?.on("data", (chunk: Buffer) => {
        log += chunk.toString();
        const match = /checkpoint: .*checkpoints\/checkpoint-(\d+)/.exec(log);
        if (match) resolve(Number(match[1]));
      });
      void child.then(() => reject(new Error(`run ended before a LoRA checkpoint:\n${log}`)));
    });
    child.kill("SIGTERM");
    const killed = await child;
    expect(killed.exitCode).toBe(130);
    const state = JSON.parse(await readFile(join(dir, "state.json"), "utf8")) as {
      stages: Record<string, { status: string }>;
    };
    expect(state.stages.TRAINING?.status).toBe("interrupted");

    const resumed = await execa("node", [CLI, "run", "--workdir", dir, ...FAST, "--resume"], {
      reject: false,
      cwd: dir,
      all: true,
    });
    expect([0, 1], resumed.all).toContain(resumed.exitCode);
    const firstStep = /lora step (\d+)\//.exec(resumed.all ?? "");
    expect(Number(firstStep?.[1]), resumed.all).toBeGreaterThanOrEqual(checkpoint + 1);
    expect(resumed.all).toMatch(/INSPECTING up to date, skipped/);
    expect(resumed.all).toMatch(/SYNTHESIZING up to date, skipped/);
    expect((await readdir(join(dir, "bundle"))).sort()).toContain("model.gguf");
  }, 1_200_000);
});
