import { join, resolve } from "node:path";

import { Command } from "commander";

import { examples, globalOptions, withCommonOptions } from "../../cli/options.js";
import type { Output } from "../../cli/output.js";
import { sha256 } from "../../core/canonical.js";
import { nextCommand, outputHashes, withStage } from "../../core/state.js";
import { type McpTool, writeToolsFile } from "../../core/toolset.js";
import { oneLine } from "../../core/untrusted-text.js";
import { stageAction, type StageResult } from "../stage.js";
import { importTools } from "./import.js";
import { FORMAT_NAMES } from "./shapes.js";

/** `mcp-forge tools …`: a group, so more tool-file commands can join `import`. */
export function toolsCommand(): Command {
  return new Command("tools")
    .description("work with tool definitions from files")
    .addCommand(importCommand().exitOverride())
    .addHelpText("after", examples("mcp-forge tools import tools.yaml"));
}

function importCommand(): Command {
  return stageAction(
    withCommonOptions(
      new Command("import")
        .description("read MCP tools JSON, OpenAI tools/functions JSON, or the same in YAML, and write tools.json")
        .argument("<file>", "the tools file (.json, .yaml or .yml)")
        .option("-o, --out <path>", "where to write tools.json (default: <workdir>/tools.json)")
        .option("--force", "move a corrupt state.json aside and start over", false)
        .addHelpText(
          "after",
          examples(
            "mcp-forge tools import openai-tools.json",
            "mcp-forge tools import functions.yaml --out tools.json",
            "mcp-forge tools import tools.json --workdir runs/weather --json",
          ),
        ),
    ),
    importStage,
  );
}

/** The command's work, called by its action and by `run`. */
export async function importStage(
  opts: { workdir: string; json: boolean; out?: string; force: boolean } & { file: string },
  output: Output,
): Promise<StageResult> {
  const file = opts.file;
  const { workdir } = globalOptions(opts);
  const out = opts.out ? resolve(opts.out) : join(workdir, "tools.json");
  const imported = await importTools(file);
  const { tools, toolsetHash } = imported.file;
  const { state } = await withStage(
    workdir,
    "INSPECTING",
    {
      inputs: { file: `sha256:${sha256(imported.sourceText)}` },
      finish: async () => ({
        outputs: await outputHashes(workdir, [out]),
        summary: { source: "file", file: resolve(file), format: imported.format, tools: tools.length, toolsetHash },
      }),
      force: opts.force,
    },
    () => writeToolsFile(out, imported.file),
  );
  const next = nextCommand(state);
  output.result({
    out,
    file,
    format: imported.format,
    syntax: imported.syntax,
    toolsetHash,
    toolCount: tools.length,
    tools: tools.map((t) => t.name),
    next: next ?? null,
  });
  output.say(summary(file, out, imported.format, tools, toolsetHash, next));
}

function summary(
  file: string,
  out: string,
  format: keyof typeof FORMAT_NAMES,
  tools: McpTool[],
  hash: string,
  next: string | undefined,
): string {
  const width = Math.min(32, Math.max(...tools.map((t) => t.name.length)));
  const lines = [
    `imported ${tools.length} tool${tools.length === 1 ? "" : "s"} from ${file} (${FORMAT_NAMES[format]}) → ${out}`,
    `toolsetHash ${hash}`,
    ...tools.map((t) => `  ${t.name.padEnd(width)}  ${paramCount(t)}  ${oneLine(t.description ?? "", 60)}`),
  ];
  if (next) lines.push("", `next: ${next}`);
  return lines.join("\n");
}

function paramCount(tool: McpTool): string {
  const n = Object.keys((tool.inputSchema.properties as object | undefined) ?? {}).length;
  return `${n} param${n === 1 ? " " : "s"}`;
}
