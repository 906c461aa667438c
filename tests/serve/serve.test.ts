import { readFile } from "node:fs/promises";
import { join } from "node:path";

import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { ValidationSet } from "../../src/bundle/validation-set.js";
import { runCli, tempDir } from "../support/cli.js";
import { type ServeProcess, startServe } from "./serve-process.js";
import { type TinyBundle, tinyBundle } from "./tiny-bundle.js";

type Prompt = { messages: OpenAI.Chat.ChatCompletionMessageParam[]; tools: OpenAI.Chat.ChatCompletionTool[] };

describe("mcp-forge serve", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let tiny: TinyBundle;
  let serve: ServeProcess;
  let client: OpenAI;
  let prompts: Prompt[];
  let callPrompt = 0;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    tiny = await tinyBundle(dir);
    // The grammar keeps the tiny model's calls well-formed; the benchmark below runs constrained too.
    serve = await startServe(tiny.bundle, ["--constrained"]);
    client = new OpenAI({ apiKey: "unused", baseURL: serve.url, maxRetries: 0 });
    const set = JSON.parse(await readFile(join(tiny.bundle, "tests", "validation.json"), "utf8")) as ValidationSet;
    prompts = set.prompts
      .filter((p) => p.scenario === "standard" && p.expectedCalls.length > 0)
      .map((p) => ({
        messages: p.messages as OpenAI.Chat.ChatCompletionMessageParam[],
        tools: p.sample.tools as OpenAI.Chat.ChatCompletionTool[],
      }));
  });
  afterAll(async () => {
    if (serve?.child.exitCode === null) await serve.stop();
    await cleanup();
  });

  it("answers the openai client with tool calls in OpenAI's wire shape, streaming and not, the same call both ways", async () => {
    let done: OpenAI.Chat.ChatCompletion | undefined;
    for (const [i, p] of prompts.slice(0, 6).entries()) {
      const answer = await client.chat.completions.create({ model: tiny.name, messages: p.messages, tools: p.tools });
      expect(answer.object).toBe("chat.completion");
      if (answer.choices[0]!.finish_reason === "tool_calls") {
        done = answer;
        callPrompt = i;
        break;
      }
    }
    expect(done, "no tool call in 6 completions").toBeDefined();
    const { messages, tools } = prompts[callPrompt]!;
    const choice = done!.choices[0]!;
    const call = choice.message.tool_calls![0]!;
    expect(call.type).toBe("function");
    if (call.type !== "function") throw new Error("not a function call");
    expect(call.id).toMatch(/^call_/);
    expect(tools.map((t) => (t.type === "function" ? t.function.name : ""))).toContain(call.function.name);
    expect(typeof call.function.arguments).toBe("string");
    expect(JSON.parse(call.function.arguments)).toBeTypeOf("object");
    expect(done!.usage!.completion_tokens).toBeGreaterThan(0);

    const stream = await client.chat.completions.create({
      model: tiny.name,
      messages,
      tools,
      stream: true,
      stream_options: { include_usage: true },
    });
    const calls = new Map<number, { id: string; name: string; args: string }>();
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined | null;
    let content = "";
    let argumentDeltas = 0;
    for await (const chunk of stream) {
      expect(chunk.object).toBe("chat.completion.chunk");
      if (chunk.usage) usage = chunk.usage;
      const c = chunk.choices[0];
      if (!c) continue;
      finish = c.finish_reason ?? finish;
      content += c.delta.content ?? "";
      for (const part of c.delta.tool_calls ?? []) {
        const entry = calls.get(part.index) ?? { id: "", name: "", args: "" };
        if (part.id) expect(part).toMatchObject({ type: "function", function: { arguments: "" } });
        if (part.function?.arguments) argumentDeltas += 1;
        entry.id += part.id ?? "";
        entry.name += part.function?.name ?? "";
        entry.args += part.function?.arguments ?? "";
        calls.set(part.index, entry);
      }
    }
    expect(finish).toBe("tool_calls");
    expect(content).not.toContain("<tool_call>");
    expect(content).toBe(choice.message.content ?? "");
    // The arguments arrive in pieces as the model writes them, not as one string at the end.
    expect(argumentDeltas).toBeGreaterThan(2);
    expect(calls.get(0)!.id).toMatch(/^call_/);
    expect({ name: calls.get(0)!.name, args: JSON.parse(calls.get(0)!.args) }).toEqual({
      name: call.function.name,
      args: JSON.parse(call.function.arguments),
    });
    expect(usage).toEqual(done!.usage);

    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual([tiny.name]);
  });

  it("streams text as the model writes it: content chunks spread over the generation, then finish_reason stop", async () => {
    // The longest text answer among a few prompts offered no tools (the tiny model sometimes calls one
    // anyway); the first two are questions of its training data, whose answers it learnt by heart.
    let longest: { content: string; tokens: number; text: string } | undefined;
    for (const content of [
      "What is a knowledge graph?",
      "Hi, how are you?",
      "Tell me a long story about Ada.",
      "Hello there!",
      "What can you do?",
    ]) {
      const answer = await client.chat.completions.create({ model: tiny.name, messages: [{ role: "user", content }] });
      const tokens = answer.usage!.completion_tokens;
      if (answer.choices[0]!.finish_reason === "stop" && tokens > (longest?.tokens ?? 0))
        longest = { content, tokens, text: answer.choices[0]!.message.content ?? "" };
    }
    expect(longest?.tokens, "no text answer of 6 tokens or more").toBeGreaterThanOrEqual(6);
    // Asked again, so the prompt is in llama.cpp's cache and the stream's time is the generation's.
    const again = await client.chat.completions.create({
      model: tiny.name,
      messages: [{ role: "user", content: longest!.content }],
    });
    expect(again.choices[0]!.message.content).toBe(longest!.text);

    const stream = await client.chat.completions.create({
      model: tiny.name,
      messages: [{ role: "user", content: longest!.content }],
      stream: true,
    });
    const arrivals: string[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      const c = chunk.choices[0];
      if (c?.delta.content) arrivals.push(c.delta.content);
      finish = c?.finish_reason ?? finish;
    }
    expect(finish).toBe("stop");
    expect(arrivals.length).toBeGreaterThanOrEqual(3);
    expect(arrivals.join("")).toBe(longest!.text);

    // The tiny model writes a token in well under a millisecond, too fast to tell streaming from
    // a reply sent at the end by the clock. The network tells: sent at the end, the whole answer
    // comes in one read; streamed, its content arrives over several.
    const res = await fetch(`${serve.url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: tiny.name, messages: [{ role: "user", content: longest!.content }], stream: true }),
    });
    const reader = res.body!.getReader();
    let readsWithContent = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (/"content":"[^"]/.test(new TextDecoder().decode(value))) readsWithContent++;
    }
    expect(readsWithContent).toBeGreaterThanOrEqual(2);
  });

  it("survives a client that disconnects mid-stream: the server sees it before the answer ends and serves the next request", async () => {
    const { messages, tools } = prompts[callPrompt]!;
    const abort = new AbortController();
    // A long prompt the cache has not seen: the tiny model's replies take a few milliseconds, its
    // reading of a thousand new tokens far longer than the client needs to leave.
    const long: OpenAI.Chat.ChatCompletionMessageParam[] = [
      { role: "user", content: "Please read the whole graph again. ".repeat(150) },
    ];
    const stream = await client.chat.completions.create(
      { model: tiny.name, messages: long, tools, stream: true },
      { signal: abort.signal },
    );
    // The role chunk goes out before llama.cpp starts: leaving then cuts the generation short.
    for await (const chunk of stream) {
      expect(chunk.choices[0]?.delta.role).toBe("assistant");
      abort.abort();
      break;
    }
    const next = await client.chat.completions.create({ model: tiny.name, messages, tools });
    expect(next.choices[0]!.finish_reason).toBe("tool_calls");
    expect(serve.child.exitCode).toBeNull();
    await expect
      .poll(() => serve.output())
      .toMatch(/POST \/v1\/chat\/completions 200 \d+ ms: the client closed the connection first/);
  });

  it("refuses bad requests with a 4xx in OpenAI's error shape and keeps serving", async () => {
    const post = async (body: string) => {
      const res = await fetch(`${serve.url}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      return {
        status: res.status,
        body: (await res.json()) as {
          error: { message: string; type: string; param: string | null; code: string | null };
        },
      };
    };
    const user = [{ role: "user", content: "hi" }];
    const cases: Array<[string, number, string | null]> = [
      ["{not json", 400, null],
      [JSON.stringify({ model: tiny.name }), 400, "messages"],
      [JSON.stringify({ model: tiny.name, messages: [] }), 400, "messages"],
      [JSON.stringify({ model: tiny.name, messages: [{ role: "robot", content: "x" }] }), 400, "messages[0].role"],
      [JSON.stringify({ model: tiny.name, messages: [{ role: "user", content: 42 }] }), 400, "messages[0].content"],
      [JSON.stringify({ model: tiny.name, messages: user, stream: "yes" }), 400, "stream"],
      [JSON.stringify({ model: tiny.name, messages: user, max_tokens: -3 }), 400, "max_tokens"],
      [
        JSON.stringify({ model: tiny.name, messages: user, tools: [{ type: "function", function: { name: 7 } }] }),
        400,
        "tools[0].function.name",
      ],
      [
        JSON.stringify({
          model: tiny.name,
          messages: [
            {
              role: "assistant",
              content: null,
              tool_calls: [{ id: "a", type: "function", function: { name: "x", arguments: "{oops" } }],
            },
          ],
        }),
        400,
        "messages[0].tool_calls[0].function.arguments",
      ],
      [JSON.stringify({ model: "gpt-4o", messages: user }), 404, "model"],
    ];
    for (const [body, status, param] of cases) {
      const res = await post(body);
      expect({ body: body.slice(0, 60), status: res.status }).toEqual({ body: body.slice(0, 60), status });
      expect(res.body.error).toMatchObject({ type: "invalid_request_error", param });
      expect(res.body.error.message.length).toBeGreaterThan(0);
      expect(Object.keys(res.body.error).sort()).toEqual(["code", "message", "param", "type"]);
    }
    await expect(
      client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] }),
    ).rejects.toMatchObject({
      status: 404,
      code: "model_not_found",
    });
    expect((await fetch(`${serve.url}/embeddings`, { method: "POST", body: "{}" })).status).toBe(404);
    expect((await fetch(`${serve.url}/chat/completions`)).status).toBe(405);

    const after = await client.chat.completions.create({
      model: tiny.name,
      messages: prompts[callPrompt]!.messages,
      tools: prompts[callPrompt]!.tools,
    });
    expect(after.choices[0]!.finish_reason).toBe("tool_calls");
  });

  it("gives the benchmark the same metrics through the OpenAI backend as the GGUF in process, constrained and free", async () => {
    const free = await startServe(tiny.bundle);
    try {
      for (const [mode, url, flags] of [
        ["constrained", serve.url, ["--constrained"]],
        ["free", free.url, []],
      ] as const) {
        const common = ["--workdir", tiny.workdir, "--limit", "12", "--json"];
        const local = await runCli([
          "benchmark",
          "--model",
          tiny.model.gguf,
          ...flags,
          "--report-dir",
          join(dir, `${mode}-local`),
          ...common,
        ]);
        const remote = await runCli([
          "benchmark",
          "--model",
          `openai:${tiny.name}`,
          "--base-url",
          url,
          "--report-dir",
          join(dir, `${mode}-remote`),
          ...common,
        ]);
        expect([0, 1]).toContain(local.code);
        expect(remote.code, remote.stderr).toBe(local.code);
        const read = async (name: string) =>
          JSON.parse(await readFile(join(dir, name, "benchmark.json"), "utf8")) as Record<string, unknown>;
        const [a, b] = [await read(`${mode}-local`), await read(`${mode}-remote`)];
        expect(b.metrics, mode).toEqual(a.metrics);
        expect(b.perTool, mode).toEqual(a.perTool);
        expect(b.perScenario, mode).toEqual(a.perScenario);
        // Unparseable calls and unknown tools cross the wire as such, so they count the same.
        expect(a.counts).toHaveProperty("unparseableCalls");
        expect(b.counts, mode).toEqual(a.counts);
        expect(
          Object.values(a.metrics as Record<string, number | null>).some((v) => typeof v === "number" && v > 0),
        ).toBe(true);
      }
    } finally {
      await free.stop();
    }
  }, 300_000);

  it("stops on SIGTERM: the port is closed and the process exits", async () => {
    const code = await serve.stop("SIGTERM");
    expect(code).toBe(130);
    await expect(fetch(`${serve.url}/models`)).rejects.toThrow();
  });
});
