import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";

import { CLI, ROOT } from "../support/cli.js";

const FIXTURES = join(ROOT, "tests", "fixtures", "data");
const SMALL = ["--set", "tiny.vocab_size=1024", "--set", "max_seq_length=1024", "--set", "max_steps=8"];

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A work directory holding the fixture tools and the first `samples` fixture samples. */
async function workdir(samples: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "forge-budget-"));
  dirs.push(dir);
  await mkdir(join(dir, "data"));
  await copyFile(join(FIXTURES, "tools.json"), join(dir, "tools.json"));
  const lines = (await readFile(join(FIXTURES, "train.jsonl"), "utf8")).split("\n").filter(Boolean);
  await import("node:fs/promises").then((fs) =>
    fs.writeFile(join(dir, "data", "train.jsonl"), `${lines.slice(0, samples).join("\n")}\n`),
  );
  return dir;
}

/** Every path under `dir` with its size and modification time: a write anywhere changes it. */
async function listing(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    const s = await stat(path);
    out.push(`${path} ${entry.isFile() ? s.size : "dir"} ${s.mtimeMs}`);
  }
  return out.sort();
}

describe("mcp-forge train --dry-run", () => {
  it("prints the estimate (tokens, tokens/s measured here, minutes) and trains and writes nothing", async () => {
    const dir = await workdir(64);
    const before = await listing(dir);
    const run = await execa("node", [CLI, "train", "--workdir", dir, "--dry-run", "--json", ...SMALL], {
      reject: false,
    });
    expect(run.exitCode, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as {
      dryRun: boolean;
      estimate: { tokens: number; tokensPerSecond: number; seconds: number; phases: Array<{ phase: string }> };
    };
    expect(result.dryRun).toBe(true);
    expect(result.estimate.tokens).toBeGreaterThan(0);
    expect(result.estimate.tokensPerSecond).toBeGreaterThan(0);
    expect(result.estimate.seconds).toBeGreaterThan(0);
    expect(result.estimate.phases.map((p) => p.phase)).toEqual(["pretrain", "lora"]);
    expect(run.stderr).toMatch(
      /estimate: [\d,]+ tokens to train at [\d,]+ tokens\/s \(measured on this machine\): \d+\.\d min of training/,
    );
    expect(run.stderr).not.toMatch(/step \d+\/\d+/);
    expect(await listing(dir)).toEqual(before);
  }, 600_000);

  it("rejects a budget that is not a number of minutes with exit 2", async () => {
    const dir = await workdir(8);
    const run = await execa("node", [CLI, "train", "--workdir", dir, "--time-budget", "soon"], { reject: false });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("--time-budget soon: expected minutes");
  });
});
