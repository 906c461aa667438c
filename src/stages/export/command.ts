import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";

import { Command, Option } from "commander";

import { examples, globalOptions, withCommonOptions } from "../../cli/options.js";
import type { Output } from "../../cli/output.js";
import { fileHash } from "../../core/canonical.js";
import { QUANTS } from "../../core/contract.js";
import { badInput } from "../../core/errors.js";
import { exists } from "../../core/files.js";
import { outputHashes, withStage } from "../../core/state.js";
import { type ExportDone, requireTrainerPython, runTrainer, trainerError } from "../../core/trainer-process.js";
import { stageAction, type StageResult } from "../stage.js";
import { makeProgressView } from "../train/progress.js";

interface ExportOptions {
  workdir: string;
  json: boolean;
  model?: string;
  quant: string;
  out?: string;
  tools?: string;
  verify: boolean;
}

/** `--model` may name the adapter itself or the train output folder that holds `adapter/`. */
async function adapterDir(path: string): Promise<string> {
  if (await exists(join(path, "adapter_config.json"))) return path;
  if (await exists(join(path, "adapter", "adapter_config.json"))) return join(path, "adapter");
  throw badInput(
    `${path} holds no LoRA adapter (no adapter_config.json)`,
    "run `mcp-forge train` first, or pass --model <adapter dir>",
  );
}

export function exportCommand(): Command {
  return stageAction(
    withCommonOptions(
      new Command("export")
        .description("merge the LoRA adapter into its base and write a quantised GGUF with mcp_forge.* metadata")
        .option("--model <dir>", "adapter folder, or the train output folder (default: <workdir>/model)")
        .addOption(new Option("--quant <type>", "quantisation").choices([...QUANTS]).default("q8_0"))
        .option("--out <file>", "GGUF to write (default: <workdir>/model.gguf)")
        .option("--tools <file>", "tools.json to embed (default: <workdir>/tools.json if present)")
        .option("--no-verify", "skip loading the file with llama.cpp and generating a few tokens")
        .addHelpText(
          "after",
          examples(
            "mcp-forge export",
            "mcp-forge export --quant q4_k_m --out weather.gguf",
            "mcp-forge export --model runs/a/model/adapter --tools tools.json --json",
          ),
        ),
    ),
    exportStage,
  );
}

/** The command's work, called by its action and by `run`. */
export async function exportStage(opts: ExportOptions, output: Output): Promise<StageResult> {
  const { workdir } = globalOptions(opts);
  await requireTrainerPython();
  const adapter = await adapterDir(resolve(opts.model ?? join(workdir, "model")));
  const out = resolve(opts.out ?? join(workdir, "model.gguf"));
  const defaultTools = join(workdir, "tools.json");
  const tools = opts.tools ? resolve(opts.tools) : (await exists(defaultTools)) ? defaultTools : undefined;
  if (tools && !(await exists(tools))) throw badInput(`--tools ${tools} does not exist`);
  const weights = join(adapter, "adapter_model.safetensors");
  const logFile = join(workdir, "logs", "export.log");
  const { finish } = await withStage(
    workdir,
    "EXPORTING",
    {
      inputs: {
        adapter: await fileHash(weights),
        quant: opts.quant,
        ...(tools ? { tools: await fileHash(tools) } : {}),
      },
      finish: async (done) => {
        const size = (await stat(out)).size;
        const summary = {
          path: out,
          quant: opts.quant,
          sizeBytes: size,
          timings: done.timings,
          verify: done.verify,
          metadata: done.metadata,
        };
        return { outputs: await outputHashes(workdir, [out]), summary };
      },
    },
    async () => {
      const view = makeProgressView(process.stderr);
      const args = [
        "export",
        "--adapter",
        adapter,
        "--out",
        out,
        "--quant",
        opts.quant,
        ...(tools ? ["--tools", tools] : []),
      ];
      const run = await runTrainer<ExportDone>(opts.verify ? args : [...args, "--no-verify"], {
        logFile,
        onEvent: (e) => view.onEvent(e),
      });
      view.stop();
      if (!run.done || run.exitCode !== 0) throw trainerError(run, logFile);
      return run.done;
    },
  );
  const size = finish.summary.sizeBytes as number;
  output.result(finish.summary);
  output.say(`wrote ${out} (${opts.quant}, ${(size / 1024 / 1024).toFixed(1)} MiB)\nnext: mcp-forge validate --stub`);
}
