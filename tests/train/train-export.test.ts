import { cp, mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { Template } from "@huggingface/jinja";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";

import { ensureTinyModel, type TinyModel, TRAIN_SETTINGS } from "../helpers/tiny-model.js";
import { CLI } from "../support/cli.js";

let tiny: TinyModel;

beforeAll(async () => {
  tiny = await ensureTinyModel();
}, 1_200_000);

describe("mcp-forge train and export on the tiny model", () => {
  it("trains from a fresh work directory, reports progress and records the stages", async () => {
    expect(tiny.trainProgress).toMatch(/pretrain: tiny on cpu/);
    expect(tiny.trainProgress).toMatch(/lora step \d+\/\d+ loss \d+\.\d+ \d+ tok\/s eta/);
    expect(Number(tiny.trainResult.finalLoss)).toBeGreaterThan(0);
    expect(tiny.trainResult.backend).toBe("transformers");
    const state = JSON.parse(await readFile(join(tiny.workdir, "state.json"), "utf8"));
    expect(state.stages.TRAINING.status).toBe("done");
    expect(Object.keys(state.stages.TRAINING.outputs)).toEqual(["model/adapter/adapter_model.safetensors"]);
    expect(state.stages.EXPORTING.status).toBe("done");
    expect(Object.keys(state.stages.EXPORTING.outputs)).toEqual(["model.gguf"]);
    expect(tiny.exportResult.quant).toBe("q8_0");
  });

  it("writes a GGUF that node-llama-cpp loads, with mcp_forge metadata and a chat template that renders tool calls", async () => {
    const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: tiny.gguf });
    try {
      const meta = model.fileInfo.metadata as unknown as Record<string, Record<string, unknown>>;
      const tools = JSON.parse(await readFile(tiny.toolsPath, "utf8"));
      expect(meta.mcp_forge?.toolset_hash).toBe(tools.toolsetHash);
      expect(meta.mcp_forge?.base_model).toBe("tiny");
      const template = new Template(String(meta.tokenizer?.chat_template));
      const sample = (await readFile(tiny.trainData, "utf8"))
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .find((s) => s.messages.some((m: { tool_calls?: unknown[] }) => m.tool_calls?.length));
      const call = sample.messages.find((m: { tool_calls?: unknown[] }) => m.tool_calls?.length).tool_calls[0].function;
      const text = template.render({ messages: sample.messages, tools: sample.tools, add_generation_prompt: false });
      expect(text).toContain(`<tool_call>\n{"name": "${call.name}", "arguments": `);
      expect(text).toContain("<tool_response>");

      const context = await model.createContext({ contextSize: 2048 });
      const sequence = context.getSequence();
      const prompt = template.render({
        messages: sample.messages.slice(0, 2),
        tools: sample.tools,
        add_generation_prompt: true,
      });
      const tokens = model.tokenize(prompt, true);
      const generated: number[] = [];
      for await (const token of sequence.evaluate(tokens, { temperature: 0 })) {
        generated.push(token);
        if (generated.length >= 8) break;
      }
      expect(generated.length).toBe(8);
      await context.dispose();
    } finally {
      await model.dispose();
    }
  });
});

describe("mcp-forge train errors", () => {
  let workdir: string;
  beforeAll(async () => {
    workdir = await mkdtemp(join(tmpdir(), "forge-train-"));
  });

  it("exits 3 with the setup command when the trainer's Python is missing", async () => {
    const run = await execa("node", [CLI, "train", "--workdir", workdir, "--data", tiny.trainData], {
      reject: false,
      env: { ...process.env, MCP_FORGE_PYTHON: "/nonexistent/python" },
    });
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain("npm run setup:python");
  });

  it("exits 2 naming the file when the training data is missing", async () => {
    const run = await execa("node", [CLI, "train", "--workdir", workdir, "--data", "/nonexistent/train.jsonl"], {
      reject: false,
    });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("/nonexistent/train.jsonl");
  });
});

describe("mcp-forge train interrupted", () => {
  it("checkpoints on SIGTERM, exits 130 and records how to resume", async () => {
    const workdir = await mkdtemp(join(tmpdir(), "forge-train-stop-"));
    // The cached tiny base (same data and settings) is reused, so only the LoRA phase runs.
    await cp(join(tiny.workdir, "data"), join(workdir, "data"), { recursive: true });
    const base = (await readdir(join(tiny.workdir, "model"))).find((n) => n.startsWith("tiny-base-"))!;
    await cp(join(tiny.workdir, "model", base), join(workdir, "model", base), { recursive: true });
    const settings = [...TRAIN_SETTINGS.filter((s) => !s.startsWith("save_steps")), "save_steps=1000", "max_steps=400"];
    const child = execa("node", [CLI, "train", "--workdir", workdir, ...settings.flatMap((s) => ["--set", s])], {
      reject: false,
    });
    let stderr = "";
    let sent = false;
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      // Once, and not child.kill(): execa would follow up with SIGKILL after 5 s.
      if (!sent && /lora step \d+\/400/.test(stderr) && child.pid) {
        sent = true;
        process.kill(child.pid, "SIGTERM");
      }
    });
    const run = await child;
    expect(run.exitCode).toBe(130);
    const state = JSON.parse(await readFile(join(workdir, "state.json"), "utf8"));
    expect(state.stages.TRAINING.status).toBe("interrupted");
    expect(state.stages.TRAINING.error).toContain("mcp-forge train --resume");
    const checkpoints = await readdir(join(workdir, "model", "checkpoints"));
    expect(checkpoints.some((c) => /^checkpoint-\d+$/.test(c))).toBe(true);
  }, 300_000);
});
