import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import OpenAI from "openai";

import { loadBundleModel, openBundle, withSystemPrompt } from "../agent/bundle.js";
import { packBundle } from "../bundle/pack.js";
import type { ValidationSet } from "../bundle/validation-set.js";
import { PACKAGE_ROOT } from "../core/python.js";
import { distribution } from "../eval/stats.js";
import type { ChatMessage, FunctionTool, ModelBackend } from "../models/types.js";
import { startServer } from "../serve/server.js";
import type { Bench } from "./index.js";

const ROUNDS = 10;
const PROMPTS = 8;
const CONCURRENCY = 4;

/**
 * `serve` on the tiny model: tool-call completions (the standard held-out prompts of the bundle's
 * validation set, constrained decoding) through the openai client, one at a time and CONCURRENCY at
 * once, against the same generations in process. The overhead is measured per request: the
 * client's latency minus the time the server spent in generate (HTTP, JSON, queue, client). The model:
 * the tiny model the tests train (.cache/tiny-model), or $MCP_FORGE_BENCH_GGUF with $MCP_FORGE_BENCH_WORKDIR.
 * Streaming: the time to the first chunk that carries output (content or a tool call) against the
 * time to the whole answer, for the tool-call prompts and for text answers (the no-tool prompts, sent without tools).
 */
export function serveBench(): Bench {
  return {
    name: "serve",
    async run() {
      const source = await findTinyModel();
      const tmp = await mkdtemp(join(tmpdir(), "mcp-forge-bench-serve-"));
      try {
        const workdir = join(tmp, "work");
        await mkdir(workdir);
        await cp(join(source.workdir, "data"), join(workdir, "data"), { recursive: true });
        const bundleDir = join(tmp, "bundle");
        await packBundle({
          workdir,
          model: source.gguf,
          tools: join(source.workdir, "tools.json"),
          output: bundleDir,
          name: "bench-agent",
          info: () => undefined,
        });
        const bundle = await openBundle(bundleDir);
        const set = JSON.parse(await readFile(join(bundleDir, "tests", "validation.json"), "utf8")) as ValidationSet;
        const asPrompt = (p: ValidationSet["prompts"][number]) => ({
          messages: p.messages as ChatMessage[],
          tools: p.sample.tools as FunctionTool[],
        });
        const prompts = set.prompts
          .filter((p) => p.scenario === "standard" && p.expectedCalls.length > 0)
          .slice(0, PROMPTS)
          .map(asPrompt);
        // Sent without tools, so the tiny model answers in text rather than with a stray call.
        const textPrompts = set.prompts
          .filter((p) => p.scenario === "no_tool")
          .slice(0, PROMPTS)
          .map((p) => ({ ...asPrompt(p), tools: [] }));
        const model = await loadBundleModel(bundle, { constrained: true });
        const generateMs: number[] = [];
        const backend: ModelBackend = {
          id: model.id,
          kind: model.kind,
          constrained: model.constrained,
          close: () => model.close(),
          async generate(request) {
            const t = performance.now();
            const generation = await model.generate(request);
            generateMs.push(performance.now() - t);
            return generation;
          },
        };
        const server = await startServer({ bundle, backend, host: "127.0.0.1", port: 0 });
        const client = new OpenAI({ apiKey: "unused", baseURL: server.url, maxRetries: 0 });
        try {
          let completionTokens = 0;
          const viaHttp = async (i: number) => {
            const p = prompts[i % prompts.length]!;
            const res = await client.chat.completions.create({
              model: bundle.name,
              messages: p.messages as OpenAI.Chat.ChatCompletionMessageParam[],
              tools: p.tools as OpenAI.Chat.ChatCompletionTool[],
            });
            completionTokens += res.usage?.completion_tokens ?? 0;
            return res.choices[0]!.finish_reason === "tool_calls";
          };
          const inProcess = async (i: number) => {
            const p = prompts[i % prompts.length]!;
            const g = await backend.generate({ messages: withSystemPrompt(bundle, p.messages), tools: p.tools });
            return g.calls.length > 0;
          };
          const total = prompts.length * ROUNDS;
          await sequential(inProcess, prompts.length);
          const local = await sequential(inProcess, total);
          generateMs.length = 0;
          const http = await sequential(viaHttp, total);
          const overheads = http.latencies.map((ms, i) => ms - generateMs[i]!);
          const tokens = completionTokens;
          const concurrent = await parallel(viaHttp, total, CONCURRENCY);
          const streamed = async (set: typeof prompts, whole: boolean) => {
            const firsts: number[] = [];
            const ends: number[] = [];
            let completion = 0;
            let calls = 0;
            for (let i = 0; i < set.length * ROUNDS; i++) {
              const p = set[i % set.length]!;
              const request = {
                model: bundle.name,
                messages: p.messages as OpenAI.Chat.ChatCompletionMessageParam[],
                ...(p.tools.length > 0 ? { tools: p.tools as OpenAI.Chat.ChatCompletionTool[] } : {}),
              };
              const t = performance.now();
              if (whole) {
                const res = await client.chat.completions.create(request);
                completion += res.usage?.completion_tokens ?? 0;
                if (res.choices[0]!.finish_reason === "tool_calls") calls++;
              } else {
                const stream = await client.chat.completions.create({
                  ...request,
                  stream: true,
                  stream_options: { include_usage: true },
                });
                for await (const chunk of stream) {
                  const delta = chunk.choices[0]?.delta;
                  if (firsts.length === ends.length && (delta?.content || delta?.tool_calls?.length))
                    firsts.push(performance.now() - t);
                  completion += chunk.usage?.completion_tokens ?? 0;
                  if (chunk.choices[0]?.finish_reason === "tool_calls") calls++;
                }
              }
              ends.push(performance.now() - t);
            }
            return { firsts, ends, tokens: completion / ends.length, calls };
          };
          const callStream = await streamed(prompts, false);
          const callWhole = await streamed(prompts, true);
          const textStream = await streamed(textPrompts, false);
          const textWhole = await streamed(textPrompts, true);
          const ms = (xs: number[]) => `${round(pct(xs, "p50"))} / ${round(pct(xs, "p95"))}`;
          return {
            model: source.gguf,
            decoding: "constrained (grammar from the tools), greedy",
            prompts: prompts.length,
            requests: total,
            "tool-call completions (1 client)": `${http.toolCalls}/${total}`,
            "completion tokens per request (mean)": round(tokens / total),
            "in-process generate: per second": round(total / (local.wallMs / 1000), 2),
            "in-process generate: p50 ms": round(pct(local.latencies, "p50")),
            "in-process generate: p95 ms": round(pct(local.latencies, "p95")),
            "serve, 1 client: requests/s": round(total / (http.wallMs / 1000), 2),
            "serve, 1 client: p50 ms": round(pct(http.latencies, "p50")),
            "serve, 1 client: p95 ms": round(pct(http.latencies, "p95")),
            [`serve, ${CONCURRENCY} clients: requests/s`]: round(total / (concurrent.wallMs / 1000), 2),
            [`serve, ${CONCURRENCY} clients: p95 ms`]: round(pct(concurrent.latencies, "p95")),
            "serve overhead per request (client latency − generate), p50 ms": round(pct(overheads, "p50"), 2),
            "serve overhead per request, p95 ms": round(pct(overheads, "p95"), 2),
            "serve overhead share (mean)": round(sum(overheads) / sum(http.latencies), 4),
            "streaming tool-call prompts: requests, answered with a call, completion tokens (mean)": `${callStream.ends.length}, ${callStream.calls}, ${round(callStream.tokens)}`,
            "streaming tool-call prompts: first chunk with output, p50 / p95 ms": ms(callStream.firsts),
            "streaming tool-call prompts: last chunk, p50 / p95 ms": ms(callStream.ends),
            "non-streaming tool-call prompts: complete response, p50 / p95 ms": ms(callWhole.ends),
            "streaming text prompts (no-tool, sent without tools): requests, answered with a call, completion tokens (mean)": `${textStream.ends.length}, ${textStream.calls}, ${round(textStream.tokens)}`,
            "streaming text prompts: first chunk with output, p50 / p95 ms": ms(textStream.firsts),
            "streaming text prompts: last chunk, p50 / p95 ms": ms(textStream.ends),
            "non-streaming text prompts: complete response, p50 / p95 ms": ms(textWhole.ends),
          };
        } finally {
          await server.close();
          await backend.close();
        }
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    },
  };
}

interface Timed {
  latencies: number[];
  wallMs: number;
  toolCalls: number;
}

async function sequential(job: (i: number) => Promise<boolean>, n: number): Promise<Timed> {
  const latencies: number[] = [];
  let toolCalls = 0;
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    if (await job(i)) toolCalls++;
    latencies.push(performance.now() - t);
  }
  return { latencies, wallMs: performance.now() - started, toolCalls };
}

async function parallel(job: (i: number) => Promise<boolean>, n: number, clients: number): Promise<Timed> {
  const latencies: number[] = [];
  let toolCalls = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < n) {
        const i = next++;
        const t = performance.now();
        if (await job(i)) toolCalls++;
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, wallMs: performance.now() - started, toolCalls };
}

const round = (x: number, digits = 1) => Number(x.toFixed(digits));
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const pct = (xs: number[], key: "p50" | "p95") => distribution(xs)?.[key] ?? 0;

/** The tiny model the tests train (the newest finished one), or the one the environment names. */
async function findTinyModel(): Promise<{ gguf: string; workdir: string }> {
  const gguf = process.env.MCP_FORGE_BENCH_GGUF;
  const workdir = process.env.MCP_FORGE_BENCH_WORKDIR;
  if (gguf && workdir) return { gguf, workdir };
  const cache = join(PACKAGE_ROOT, ".cache", "tiny-model");
  const found: Array<{ gguf: string; workdir: string; at: number }> = [];
  for (const entry of await readdir(cache).catch(() => [] as string[])) {
    const ready = await readFile(join(cache, entry, "ready.json"), "utf8").catch(() => undefined);
    if (!ready) continue;
    const model = JSON.parse(ready) as { gguf: string; workdir: string };
    found.push({ ...model, at: (await stat(join(cache, entry, "ready.json"))).mtimeMs });
  }
  const newest = found.sort((a, b) => b.at - a.at)[0];
  if (!newest)
    throw new Error(
      "no tiny model: run the serve tests once (they train it), or set MCP_FORGE_BENCH_GGUF and MCP_FORGE_BENCH_WORKDIR",
    );
  return newest;
}
