import { Command } from "commander";

import { collect, examples } from "../../cli/options.js";
import { badInput } from "../../core/errors.js";
import { readToolsFile } from "../../core/toolset.js";
import { readEvalSet } from "../../eval/samples.js";
import { type Recording, serveStubOverStdio, StubResponder } from "../../mcp/stub-server.js";

interface StubOpts {
  tools: string;
  data?: string[];
  errorRate: string;
  errorTool?: string[];
  seed: string;
}

export function stubCommand(): Command {
  return new Command("stub")
    .description(
      "serve tools.json as an MCP server over stdio: recorded results replayed by tool and arguments, schema-valid results otherwise",
    )
    .requiredOption("--tools <file>", "the tools.json to serve")
    .option("--data <file>", "samples JSONL whose tool results to replay (repeatable)", collect)
    .option("--error-rate <p>", "probability of an injected error result per call", "0")
    .option("--error-tool <name>", "a tool whose every call returns an error (repeatable)", collect)
    .option("--seed <n>", "seed for injected errors", "0")
    .addHelpText(
      "after",
      examples(
        "mcp-forge stub --tools .mcp-forge/tools.json --data .mcp-forge/data/train.jsonl",
        "npx @modelcontextprotocol/inspector mcp-forge stub --tools tools.json",
        "mcp-forge stub --tools tools.json --error-rate 0.1 --seed 7",
      ) + "\nThe server speaks MCP on stdin/stdout; messages go to stderr.\n",
    )
    .action(async (opts: StubOpts) => {
      const errorRate = Number(opts.errorRate);
      if (!(errorRate >= 0 && errorRate <= 1))
        throw badInput(`--error-rate ${opts.errorRate}: expected a probability from 0 to 1`);
      const seed = Number(opts.seed);
      if (!Number.isInteger(seed)) throw badInput(`--seed ${opts.seed}: expected an integer`);
      const toolsFile = await readToolsFile(opts.tools);
      const names = new Set(toolsFile.tools.map((t) => t.name));
      for (const t of opts.errorTool ?? []) {
        if (!names.has(t))
          throw badInput(`--error-tool ${t}: no such tool in ${opts.tools}`, `tools: ${[...names].join(", ")}`);
      }
      const recordings: Recording[] = [];
      for (const path of opts.data ?? []) {
        const set = await readEvalSet(path, toolsFile.tools);
        for (const c of set.cases) recordings.push(...c.recorded);
      }
      const responder = new StubResponder(toolsFile.tools, recordings, {
        errorRate,
        errorTools: opts.errorTool ?? [],
        seed,
      });
      process.stderr.write(
        `mcp-forge stub: ${toolsFile.tools.length} tools, ${responder.recordingCount} recorded results, serving MCP on stdio\n`,
      );
      await serveStubOverStdio(toolsFile, responder);
    });
}
