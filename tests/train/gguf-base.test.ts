import { copyFile, mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { execa } from "execa";
import { describe, expect, it } from "vitest";

import { CLI, ROOT } from "../support/cli.js";

const PYTHON = process.env.MCP_FORGE_PYTHON ?? join(ROOT, "python", ".venv", "bin", "python");
const FIXTURES = join(ROOT, "tests", "fixtures", "data");

async function cli(args: string[], env: NodeJS.ProcessEnv) {
  return execa("node", [CLI, ...args], { reject: false, env: { ...process.env, FORCE_COLOR: "0", ...env } });
}

describe("mcp-forge train --model <file.gguf>", () => {
  it("trains on a quantised GGUF file as base model, exports it, and llama.cpp loads the result", async () => {
    const workdir = await mkdtemp(join(tmpdir(), "forge-gguf-base-"));
    const env = { MCP_FORGE_CACHE: join(workdir, "cache") };
    // A 2-layer Llama with random weights, written by the gguf package and quantised to Q8_0 by llama.cpp.
    const gguf = join(workdir, "forge-test-llama.Q8_0.gguf");
    await execa(PYTHON, [join(ROOT, "python", "tests", "gguf_fixture.py"), gguf], {
      env: { PYTHONPATH: join(ROOT, "python") },
    });
    await mkdir(join(workdir, "data"));
    const lines = (await readFile(join(FIXTURES, "train.jsonl"), "utf8")).split("\n").slice(0, 16);
    await writeFile(join(workdir, "data", "train.jsonl"), `${lines.join("\n")}\n`);
    const tools = join(workdir, "tools.json");
    await copyFile(join(FIXTURES, "tools.json"), tools);

    const sets = ["max_steps=2", "max_seq_length=512", "batch_size=2", "grad_accum=1", "save_steps=1000"];
    const train = await cli(
      ["train", "--workdir", workdir, "--model", gguf, "--json", ...sets.flatMap((s) => ["--set", s])],
      env,
    );
    expect(train.exitCode, train.stderr).toBe(0);
    expect(JSON.parse(train.stdout)).toMatchObject({ model: gguf, backend: "transformers", steps: 2 });
    const exported = await cli(["export", "--workdir", workdir, "--quant", "q8_0", "--tools", tools, "--json"], env);
    expect(exported.exitCode, exported.stderr).toBe(0);

    const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
    const base = await llama.loadModel({ modelPath: gguf });
    const model = await llama.loadModel({ modelPath: String(JSON.parse(exported.stdout).path) });
    try {
      const meta = model.fileInfo.metadata as unknown as Record<string, Record<string, unknown>>;
      expect(meta.mcp_forge?.base_model).toBe(gguf);
      // The base file's own vocabulary: the ChatML markers stay single control tokens.
      const text = "<|im_start|>user\nhi there<|im_end|>";
      expect(model.tokenize("<|im_start|>", true)).toHaveLength(1);
      expect([...model.tokenize(text, true)]).toEqual([...base.tokenize(text, true)]);
      const context = await model.createContext({ contextSize: 512 });
      const generated: number[] = [];
      for await (const token of context
        .getSequence()
        .evaluate(model.tokenize("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", true))) {
        generated.push(token);
        if (generated.length >= 4) break;
      }
      expect(generated).toHaveLength(4);
      await context.dispose();
    } finally {
      await model.dispose();
      await base.dispose();
    }
  }, 900_000);

  it("exits 2 naming the file when the GGUF file does not exist", async () => {
    const workdir = await mkdtemp(join(tmpdir(), "forge-gguf-missing-"));
    const data = join(workdir, "train.jsonl");
    await copyFile(join(FIXTURES, "train.jsonl"), data);
    const run = await cli(["train", "--workdir", workdir, "--data", data, "--model", join(workdir, "absent.gguf")], {});
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`model file ${join(workdir, "absent.gguf")} does not exist`);
  }, 120_000);
});
