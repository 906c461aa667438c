import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";

import { PACKAGE_ROOT } from "../core/python.js";
import { runBenchmark } from "../eval/benchmark.js";
import type { Bench } from "./index.js";

/**
 * validate/benchmark on the tiny model against the stub: harness overhead (time the loop spends
 * outside llama.cpp: rendering, parsing, validation, the stub call) and prompts per second, with
 * and without constrained decoding.
 */
export function evalBench(): Bench {
  return {
    name: "eval",
    async run() {
      const gguf = await findTinyModel();
      const data = join(PACKAGE_ROOT, "tests", "fixtures", "data");
      const workdir = await mkdtemp(join(tmpdir(), "mcp-forge-bench-eval-"));
      try {
        const common = {
          model: gguf,
          toolsPath: join(data, "tools.json"),
          evalPath: join(data, "eval.jsonl"),
          workdir,
          calls: { kind: "stub" as const, data: [join(data, "train.jsonl")] },
          maxTurns: 4,
          timeoutMs: 60_000,
        };
        const free = await runBenchmark({ ...common, decoding: "free", reportDir: join(workdir, "free") });
        const constrained = await runBenchmark({
          ...common,
          decoding: "constrained",
          reportDir: join(workdir, "constrained"),
        });
        return {
          model: gguf,
          cpuCores: cpus().length,
          prompts: free.counts.prompts,
          "free: prompts/s": free.throughput.promptsPerSecond,
          "free: turns": free.counts.turns,
          "free: harness overhead share": free.harness.overheadShare,
          "free: harness ms/turn": free.harness.msPerTurn,
          "free: tool call ms": free.harness.toolMsPerCall,
          "free: loop p50 ms": free.latencyMs?.p50 ?? "–",
          "free: generation tokens/s": free.throughput.generationTokensPerSecond,
          "free: prompt tokens/s": free.throughput.promptTokensPerSecond,
          "constrained: prompts/s": constrained.throughput.promptsPerSecond,
          "constrained: turns": constrained.counts.turns,
          "constrained: harness overhead share": constrained.harness.overheadShare,
          "constrained: harness ms/turn": constrained.harness.msPerTurn,
          "constrained: tool call ms": constrained.harness.toolMsPerCall,
          "constrained: loop p50 ms": constrained.latencyMs?.p50 ?? "–",
          "constrained: toolCallParseRate": constrained.metrics.toolCallParseRate ?? "–",
          "constrained: schemaConformance": constrained.metrics.schemaConformance ?? "–",
        };
      } finally {
        await rm(workdir, { recursive: true, force: true });
      }
    },
  };
}

/** $MCP_FORGE_BENCH_GGUF, else the newest tiny model the tests built (.cache/tiny-model/<hash>/ready.json). */
async function findTinyModel(): Promise<string> {
  if (process.env.MCP_FORGE_BENCH_GGUF) return process.env.MCP_FORGE_BENCH_GGUF;
  const cache = join(PACKAGE_ROOT, ".cache", "tiny-model");
  const built: Array<{ gguf: string; at: number }> = [];
  for (const entry of await readdir(cache).catch(() => [] as string[])) {
    const ready = join(cache, entry, "ready.json");
    const info = await stat(ready).catch(() => undefined);
    if (!info) continue;
    const { gguf } = JSON.parse(await readFile(ready, "utf8")) as { gguf: string };
    built.push({ gguf, at: info.mtimeMs });
  }
  const newest = built.sort((a, b) => b.at - a.at)[0];
  if (!newest)
    throw new Error(
      "no tiny model: run the tests once (tests/helpers/tiny-model.ts trains it) or set MCP_FORGE_BENCH_GGUF",
    );
  return newest.gguf;
}
