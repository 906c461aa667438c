import { cp, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { analyzeChatTemplate } from "../bundle/chat-format.js";
import { writeGguf } from "../bundle/gguf-writer.js";
import { packBundle } from "../bundle/pack.js";
import { checkIntegrity } from "../bundle/verify.js";
import { PACKAGE_ROOT } from "../core/python.js";
import type { Bench } from "./index.js";

const MODEL_MB = 512;
const RUNS = 3;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/**
 * pack and verify-bundle on the memory server's fixture work directory with a 512 MB model.gguf
 * (metadata, then zeros for the weights): pack hard-links the model and hashes it once; the
 * integrity check hashes every file again.
 */
export async function bundleBench(): Promise<Bench> {
  return {
    name: "bundle (pack, verify-bundle)",
    async run() {
      const dir = await mkdtemp(join(tmpdir(), "mcp-forge-bench-bundle-"));
      try {
        const workdir = join(dir, "work");
        await cp(join(PACKAGE_ROOT, "tests", "bundle", "fixtures", "workdir"), workdir, { recursive: true });
        const tools = JSON.parse(await readFile(join(workdir, "tools.json"), "utf8")) as { toolsetHash: string };
        const chatTemplate = await readFile(
          join(PACKAGE_ROOT, "tests", "bundle", "fixtures", "qwen2.5-chat-template.jinja"),
          "utf8",
        );
        const model = join(workdir, "model.gguf");
        await writeGguf(
          model,
          {
            "general.architecture": "qwen2",
            "tokenizer.ggml.tokens": ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
            "tokenizer.ggml.eos_token_id": 2,
            "tokenizer.chat_template": chatTemplate,
            "mcp_forge.toolset_hash": tools.toolsetHash,
          },
          MODEL_MB * 2 ** 20,
        );
        const analyze = await timed(async () =>
          analyzeChatTemplate(chatTemplate, { bosToken: "", eosToken: "<|im_end|>" }, "bench"),
        );
        const packs: number[] = [];
        const verifies: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          const output = join(dir, `bundle-${i}`);
          packs.push(await timed(() => packBundle({ workdir, model, tools: join(workdir, "tools.json"), output })));
          verifies.push(
            await timed(async () => {
              const report = await checkIntegrity(output);
              if (report.problems.length > 0)
                throw new Error(report.problems.map((p) => `${p.file}: ${p.message}`).join("; "));
            }),
          );
        }
        const modelfile = (await stat(join(dir, "bundle-0", "Modelfile"))).size;
        return {
          "model.gguf size": `${MODEL_MB} MB`,
          "chat template analysis (5 probe renderings + checks), ms": Math.round(analyze),
          [`pack, median of ${RUNS}, ms`]: Math.round(median(packs)),
          [`verify-bundle integrity, median of ${RUNS}, ms`]: Math.round(median(verifies)),
          "verify-bundle hashing throughput, MB/s": Math.round(MODEL_MB / (median(verifies) / 1000)),
          "Modelfile size (9 tools), bytes": modelfile,
        };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
