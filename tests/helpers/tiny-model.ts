import { createHash } from "node:crypto";
import { copyFile, mkdir, open, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { execa } from "execa";

import { CLI, ROOT } from "../support/cli.js";

const FIXTURES = join(ROOT, "tests", "fixtures", "data");
const TOOLS = join(FIXTURES, "tools.json");
/**
 * The data: tests/fixtures/data (server-memory's tools, made by make_memory_data.py), not
 * `mcp-forge generate`, whose more varied text the tiny model does not learn within a test's CPU
 * budget (assistant loss still ≈ 4 after 60 steps, against ≈ 0.9 here, where it writes well-formed
 * <tool_call> JSON). A few minutes on 2 idle cores; dims stay multiples of 256 for k-quants.
 */
export const TRAIN_SETTINGS = [
  "tiny.max_samples=256",
  "tiny.pretrain_epochs=4",
  "tiny.vocab_size=1024",
  "max_seq_length=1536",
  "max_steps=20",
  "save_steps=1000",
  "seed=7",
];

export interface TinyModel {
  workdir: string;
  toolsPath: string;
  trainData: string;
  evalData: string;
  adapterDir: string;
  gguf: string;
  /** What `mcp-forge train --json` and `export --json` printed, and their progress lines (stderr). */
  trainResult: Record<string, unknown>;
  exportResult: Record<string, unknown>;
  trainProgress: string;
}

/**
 * The tiny model, trained with `mcp-forge train` and `export` once per set of inputs and
 * shared by every test file and process: `.cache/tiny-model/<hash of inputs>`, built under a lock.
 */
export async function ensureTinyModel(): Promise<TinyModel> {
  const dir = join(ROOT, ".cache", "tiny-model", await inputsHash());
  const ready = join(dir, "ready.json");
  await mkdir(dir, { recursive: true });
  for (;;) {
    const existing = await readFile(ready, "utf8").catch(() => undefined);
    if (existing) return JSON.parse(existing) as TinyModel;
    const release = await tryLock(join(dir, "lock"));
    if (release) {
      try {
        const again = await readFile(ready, "utf8").catch(() => undefined);
        if (again) return JSON.parse(again) as TinyModel;
        const model = await build(dir);
        await writeFile(`${ready}.tmp`, JSON.stringify(model, null, 2));
        await import("node:fs/promises").then((fs) => fs.rename(`${ready}.tmp`, ready));
        return model;
      } finally {
        await release();
      }
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

async function inputsHash(): Promise<string> {
  const h = createHash("sha256");
  for (const name of ["tools.json", "train.jsonl", "eval.jsonl"]) h.update(await readFile(join(FIXTURES, name)));
  h.update(JSON.stringify({ TRAIN_SETTINGS }));
  const pkg = join(ROOT, "python", "mcp_forge_trainer");
  for (const name of (await readdir(pkg)).filter((n) => n.endsWith(".py") || n.endsWith(".jinja")).sort()) {
    h.update(name).update(await readFile(join(pkg, name)));
  }
  return h.digest("hex").slice(0, 16);
}

/** An exclusive lock file holding our pid; a lock whose process is gone is taken over. */
async function tryLock(path: string): Promise<(() => Promise<void>) | undefined> {
  try {
    const handle = await open(path, "wx");
    await handle.write(String(process.pid));
    await handle.close();
    return () => rm(path, { force: true });
  } catch {
    const pid = Number(await readFile(path, "utf8").catch(() => "0"));
    const alive =
      pid > 0 &&
      (() => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      })();
    const age =
      Date.now() -
      (await stat(path)
        .then((s) => s.mtimeMs)
        .catch(() => Date.now()));
    if (!alive && age > 1000) await rm(path, { force: true });
    return undefined;
  }
}

async function cli(args: string[]): Promise<{ result: Record<string, unknown>; stderr: string }> {
  const run = await execa("node", [CLI, ...args], { reject: false, env: { ...process.env, FORCE_COLOR: "0" } });
  if (run.exitCode !== 0) {
    throw new Error(`mcp-forge ${args.join(" ")} exited ${run.exitCode}:\n${String(run.stderr).slice(-4000)}`);
  }
  return { result: JSON.parse(String(run.stdout)) as Record<string, unknown>, stderr: String(run.stderr) };
}

async function build(dir: string): Promise<TinyModel> {
  const workdir = join(dir, "work");
  await rm(workdir, { recursive: true, force: true });
  await mkdir(workdir, { recursive: true });
  const toolsPath = join(workdir, "tools.json");
  await copyFile(TOOLS, toolsPath);
  const common = ["--workdir", workdir];
  await mkdir(join(workdir, "data"));
  for (const name of ["train.jsonl", "eval.jsonl"]) await copyFile(join(FIXTURES, name), join(workdir, "data", name));
  const train = await cli([
    "train",
    ...common,
    "--model",
    "tiny",
    "--json",
    ...TRAIN_SETTINGS.flatMap((s) => ["--set", s]),
  ]);
  const exported = await cli(["export", ...common, "--quant", "q8_0", "--json"]);
  return {
    workdir,
    toolsPath,
    trainData: join(workdir, "data", "train.jsonl"),
    evalData: join(workdir, "data", "eval.jsonl"),
    adapterDir: String(train.result.adapter),
    gguf: String(exported.result.path),
    trainResult: train.result,
    exportResult: exported.result,
    trainProgress: train.stderr,
  };
}
