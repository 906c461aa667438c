import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { type EvalInputs, type OpenExecutor, openExecutor, prepare, type Prepared } from "../../src/eval/engine.js";
import { runCase, type RunRecord } from "../../src/eval/loop.js";
import type { ToolExecutor, ToolResult } from "../../src/eval/mcp-executor.js";
import { GgufBackend } from "../../src/models/llama-cpp-backend.js";
import type { ChatMessage, FunctionTool, GenerateRequest, Generation, ModelBackend } from "../../src/models/types.js";
import { ensureTinyModel } from "../helpers/tiny-model.js";

/** The real backend, noting whether a generation is under way and which prompts were rendered ahead. */
class WatchedBackend implements ModelBackend {
  generating = false;
  /** Prompts rendered ahead that a generate then used, each checked against a fresh rendering. */
  preparedUsed = 0;
  private readonly prepared = new Map<readonly ChatMessage[], string>();
  constructor(private readonly inner: GgufBackend) {}
  prepare(messages: readonly ChatMessage[], tools: readonly FunctionTool[]) {
    expect(this.generating).toBe(true);
    this.prepared.set(messages, this.inner.template.render(messages, tools, true));
    this.inner.prepare(messages, tools);
  }
  get id() {
    return this.inner.id;
  }
  readonly kind = "gguf" as const;
  get constrained() {
    return this.inner.constrained;
  }
  async generate(request: GenerateRequest): Promise<Generation> {
    const prepared = this.prepared.get(request.messages);
    if (prepared !== undefined) {
      expect(this.inner.template.render(request.messages, request.tools, true)).toBe(prepared);
      this.preparedUsed += 1;
    }
    this.generating = true;
    try {
      return await this.inner.generate(request);
    } finally {
      this.generating = false;
    }
  }
  close() {
    return this.inner.close();
  }
}

/** The real executor (the stub server), counting the calls it gets and when they come. */
class CountingExecutor implements ToolExecutor {
  readonly calls: Array<{ name: string; duringGeneration: boolean }> = [];
  prefetchable?: (name: string) => boolean;
  constructor(
    private readonly inner: ToolExecutor,
    private readonly backend: WatchedBackend,
    prefetch: boolean,
  ) {
    if (prefetch) this.prefetchable = (name) => inner.prefetchable?.(name) ?? false;
  }
  call(name: string, args: Record<string, unknown>): Promise<ToolResult> {
    this.calls.push({ name, duringGeneration: this.backend.generating });
    return this.inner.call(name, args);
  }
}

const withoutTimes = (run: RunRecord) => run.turns.map((t) => ({ raw: t.raw, calls: t.calls }));

describe("calls started while the model finishes its reply", () => {
  let backend: WatchedBackend;
  let prepared: Prepared;
  let stub: OpenExecutor;

  beforeAll(async () => {
    const tiny = await ensureTinyModel();
    const inputs: EvalInputs = {
      toolsPath: tiny.toolsPath,
      evalPath: tiny.evalData,
      workdir: mkdtempSync(join(tmpdir(), "mcp-forge-prefetch-")),
      calls: { kind: "stub", data: [tiny.trainData, tiny.evalData] },
      maxTurns: 3,
      timeoutMs: 30_000,
      limit: 8,
    };
    prepared = await prepare(inputs);
    stub = await openExecutor(inputs, prepared);
    backend = new WatchedBackend(await GgufBackend.load(tiny.gguf, { constrained: true }));
  }, 1_800_000);
  afterAll(async () => {
    await backend?.close();
    await stub?.close();
  });

  it("runs each call once, renders the next prompt ahead, with the same transcripts as calls made after the reply", async () => {
    const loop = async (early: boolean) => {
      const executor = new CountingExecutor(stub.executor, backend, early);
      const runs: RunRecord[] = [];
      for (const [i, c] of prepared.cases.entries()) {
        const next = prepared.cases[i + 1];
        const upcoming = early && next ? { upcoming: { messages: next.prompt, tools: next.tools } } : {};
        runs.push(await runCase(c, { backend, executor, validators: prepared.validators, maxTurns: 3, ...upcoming }));
      }
      return { runs, calls: executor.calls };
    };
    const after = await loop(false);
    expect(backend.preparedUsed).toBe(0);
    const early = await loop(true);
    // The next case's first prompt (7 of 8), and the turns after calls started early.
    expect(backend.preparedUsed).toBeGreaterThan(prepared.cases.length - 1);

    expect(early.runs.map(withoutTimes)).toEqual(after.runs.map(withoutTimes));
    const made = early.runs.flatMap((r) =>
      r.turns.flatMap((t) => t.calls.filter((c) => c.check === "ok").map((c) => c.name)),
    );
    expect(made.length).toBeGreaterThan(0);
    expect(early.calls.map((c) => c.name)).toEqual(made);
    expect(early.calls.every((c) => c.duringGeneration)).toBe(true);
    expect(after.calls.some((c) => c.duringGeneration)).toBe(false);
  });
});
