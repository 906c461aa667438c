import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { loadBundleModel, openBundle, withSystemPrompt } from "../../src/agent/bundle.js";
import type { ValidationSet } from "../../src/bundle/validation-set.js";
import type { ChatMessage, FunctionTool, GenerateRequest, ModelBackend } from "../../src/models/types.js";
import { tinyBundle } from "./tiny-bundle.js";

describe("the GGUF backend's onText and signal", () => {
  let dir: string;
  let backend: ModelBackend;
  let request: GenerateRequest;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mcp-forge-gguf-stream-"));
    const tiny = await tinyBundle(dir);
    const bundle = await openBundle(tiny.bundle);
    backend = await loadBundleModel(bundle, { constrained: true });
    const set = JSON.parse(await readFile(join(tiny.bundle, "tests", "validation.json"), "utf8")) as ValidationSet;
    const prompt = set.prompts.find((p) => p.scenario === "standard")!;
    request = {
      messages: withSystemPrompt(bundle, prompt.messages as ChatMessage[]),
      tools: prompt.sample.tools as FunctionTool[],
    };
  });
  afterAll(async () => {
    await backend?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("hands over the output piece by piece, adding up to the whole", async () => {
    const pieces: string[] = [];
    const generation = await backend.generate({ ...request, onText: (text) => pieces.push(text) });
    expect(pieces.length).toBeGreaterThan(3);
    expect(pieces.join("")).toBe(generation.raw);
    expect((await backend.generate(request)).raw).toBe(generation.raw);
  });

  it("stops generating when the signal aborts, and the next generation is unharmed", async () => {
    const whole = await backend.generate(request);
    const abort = new AbortController();
    const pieces: string[] = [];
    const stopped = backend.generate({
      ...request,
      signal: abort.signal,
      onText: (text) => {
        pieces.push(text);
        abort.abort(new Error("client gone"));
      },
    });
    await expect(stopped).rejects.toThrow("client gone");
    expect(pieces).toHaveLength(1);
    expect((await backend.generate(request)).raw).toBe(whole.raw);
  });
});
