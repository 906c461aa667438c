import { join, resolve } from "node:path";

import { Command } from "commander";

import { packBundle } from "../../bundle/pack.js";
import { examples, globalOptions, withCommonOptions } from "../../cli/options.js";
import type { Output } from "../../cli/output.js";
import { badInput } from "../../core/errors.js";
import { stageAction, type StageResult } from "../stage.js";

export function packCommand(): Command {
  const command = new Command("pack")
    .description(
      "write the agent bundle: model.gguf, tools.json, agent.yaml, Modelfile, README.md, prompt template, validation prompts, SHA256SUMS",
    )
    .option("--model <gguf>", "the exported model (default: <workdir>/model.gguf)")
    .option("--tools <file>", "the toolset the model was trained on (default: <workdir>/tools.json)")
    .option("-o, --output <dir>", "bundle folder to write; an earlier bundle there is replaced whole")
    .option("--name <name>", "model name, also for `ollama create` (default: <server name>-agent)")
    .option("--version <version>", "bundle version", "0.1.0")
    .addHelpText(
      "after",
      examples(
        "mcp-forge pack --output bundle",
        "mcp-forge pack --model .mcp-forge/model.gguf --tools .mcp-forge/tools.json --output dist/weather-agent --name weather-agent --version 1.2.0",
        "mcp-forge pack --workdir runs/memory --output bundle --json",
      ),
    );
  return stageAction(withCommonOptions(command), packStage);
}

/** The command's work, called by its action and by `run`. */
export async function packStage(
  opts: {
    workdir: string;
    json: boolean;
    model?: string;
    tools?: string;
    output?: string;
    name?: string;
    version: string;
  },
  output: Output,
): Promise<StageResult> {
  const { workdir } = globalOptions(opts);
  if (!opts.output)
    throw badInput(
      "pack needs --output <dir>: the folder to write the bundle to",
      "e.g. mcp-forge pack --output bundle",
    );
  const result = await packBundle({
    workdir,
    model: opts.model ? resolve(opts.model) : join(workdir, "model.gguf"),
    tools: opts.tools ? resolve(opts.tools) : join(workdir, "tools.json"),
    output: resolve(opts.output),
    name: opts.name,
    version: opts.version,
    info: output.info,
  });
  const { manifest } = result;
  output.result({
    bundle: result.output,
    name: manifest.name,
    version: manifest.version,
    files: result.files,
    toolsetHash: manifest.toolset.hash,
    validation: manifest.validation.status,
    benchmark: manifest.benchmark.status,
  });
  output.say(
    [
      `bundle: ${result.output}`,
      `  ${manifest.name} ${manifest.version} · ${manifest.toolset.tools.length} tools · toolset ${manifest.toolset.hash}`,
      `  validation: ${manifest.validation.status} · benchmark: ${manifest.benchmark.status}`,
      `  files: ${result.files.join(", ")}`,
      "",
      `next: mcp-forge verify-bundle ${result.output}`,
      `      ollama create ${manifest.name} -f ${join(result.output, "Modelfile")}`,
    ].join("\n"),
  );
}
