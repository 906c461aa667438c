import { join, resolve } from "node:path";

import { Command } from "commander";

import { examples, globalOptions, withCommonOptions } from "../../cli/options.js";
import type { Output } from "../../cli/output.js";
import { badInput } from "../../core/errors.js";
import { addServerOptions, serverTargetFromOptions, timeoutMsFromOptions } from "../../mcp/server-options.js";
import { stageAction, type StageResult } from "../stage.js";
import { inspectServer } from "./inspect.js";
import { formatSummary, jsonResult } from "./summary.js";

export function inspectCommand(): Command {
  const command = new Command("inspect")
    .description("list a live MCP server's tools (stdio, Streamable HTTP or legacy SSE) and write them to tools.json")
    .option("-o, --out <file>", "where to write the tools (default: <workdir>/tools.json)");
  addServerOptions(command);
  command.addHelpText(
    "after",
    examples(
      'mcp-forge inspect --server "npx -y @modelcontextprotocol/server-filesystem /tmp"',
      'mcp-forge inspect --server "node build/server.js" --env API_TOKEN=abc123 --cwd ../my-server',
      'mcp-forge inspect --url http://localhost:3001/mcp --header "Authorization: Bearer $TOKEN" --out tools.json',
      'mcp-forge inspect --server "python -m my_server" --timeout 90 --json',
    ),
  );
  return stageAction(withCommonOptions(command), inspectStage);
}

/** The command's work, called by its action and by `run`. */
export async function inspectStage(
  opts: Record<string, unknown> & { workdir: string; json: boolean },
  output: Output,
): Promise<StageResult> {
  const { workdir } = globalOptions(opts);
  const target = serverTargetFromOptions(opts);
  if (!target) {
    throw badInput(
      'inspect needs a server: pass --server "<command>" or --url <url>',
      'e.g. mcp-forge inspect --server "node server.js"',
    );
  }
  const timeoutMs = timeoutMsFromOptions(opts);
  const out = typeof opts.out === "string" ? resolve(opts.out) : join(workdir, "tools.json");
  const result = await inspectServer(target, { workdir, out, timeoutMs, info: output.info });
  output.result(jsonResult(result));
  output.say(formatSummary(result));
}
