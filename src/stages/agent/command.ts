import { join } from "node:path";

import { Command } from "commander";

import { loadBundleModel, openBundle } from "../../agent/bundle.js";
import { type CallEvents, ConfirmingExecutor } from "../../agent/confirming-executor.js";
import { PrintingBackend } from "../../agent/printing-backend.js";
import { AgentSession } from "../../agent/session.js";
import { Terminal } from "../../agent/terminal.js";
import { checkDrift, formatDrift } from "../../bundle/verify.js";
import { examples, globalOptions, withCommonOptions } from "../../cli/options.js";
import type { Output } from "../../cli/output.js";
import { badInput, ExitCode } from "../../core/errors.js";
import { onShutdown } from "../../core/shutdown.js";
import { printable } from "../../core/untrusted-text.js";
import type { RunRecord } from "../../eval/loop.js";
import { McpExecutor, type ToolResult } from "../../eval/mcp-executor.js";
import { connectToServer, describeTarget } from "../../mcp/connect.js";
import { listAllTools } from "../../mcp/list-tools.js";
import { addServerOptions, serverTargetFromOptions, timeoutMsFromOptions } from "../../mcp/server-options.js";
import { StubResponder } from "../../mcp/stub-server.js";
import { callFormatForTemplate } from "../../models/parsers/index.js";
import { stageAction, type StageResult } from "../stage.js";

interface AgentCliOptions extends Record<string, unknown> {
  workdir: string;
  json: boolean;
  bundle?: string;
  prompt?: string;
  verbose: boolean;
  yes: boolean;
  allowDrift: boolean;
  maxTurns: string;
  constrained: boolean;
}

const MAX_SHOWN_RESULT = 500;

export function agentCommand(): Command {
  const command = new Command("agent")
    .description("the bundle's model drives a live MCP server's tools: one prompt (-p) or a chat on the terminal")
    .option("--bundle <dir>", "the agent bundle `mcp-forge pack` wrote")
    .option(
      "-p, --prompt <text>",
      "one prompt: print the answer and exit (without it: a chat, one message per line; with --json, one JSON reply per line)",
    )
    .option("-v, --verbose", "print each tool call and its result", false)
    .option("-y, --yes", "run tools that are not read-only without asking", false)
    .option("--allow-drift", "start even when the server's tools differ from the ones the model was trained on", false)
    .option("--max-turns <n>", "model turns per message (each turn may call tools)", "4")
    .option(
      "--constrained",
      "decode with a grammar built from the tools' schemas: every call the model writes parses and fits its schema",
      false,
    );
  addServerOptions(command);
  command.addHelpText(
    "after",
    examples(
      'mcp-forge agent --bundle bundle --server "npx -y @modelcontextprotocol/server-memory" -p "Remember that Ada works at Acme"',
      'mcp-forge agent --bundle bundle --server "node server.js" -v',
      'mcp-forge agent --bundle bundle --url http://localhost:3001/mcp --header "Authorization: Bearer $TOKEN" -p "…" --yes',
      'mcp-forge agent --bundle bundle --server "node server.js" --allow-drift --json -p "…"',
    ),
  );
  return stageAction(withCommonOptions(command), agentStage);
}

/** The command's work, called by its action and by `run`. */
export async function agentStage(opts: AgentCliOptions, output: Output): Promise<StageResult> {
  const { workdir } = globalOptions(opts);
  if (!opts.bundle)
    throw badInput(
      "agent needs --bundle <dir>: the folder `mcp-forge pack` wrote",
      'e.g. mcp-forge agent --bundle bundle --server "node server.js"',
    );
  const target = serverTargetFromOptions(opts);
  if (!target)
    throw badInput(
      'agent needs a live server: --server "<command>" or --url <url>',
      'e.g. --server "npx -y @modelcontextprotocol/server-memory"',
    );
  const maxTurns = Number(opts.maxTurns);
  if (!Number.isInteger(maxTurns) || maxTurns < 1)
    throw badInput(`--max-turns ${opts.maxTurns}: expected a whole number, 1 or more`, "e.g. --max-turns 4");
  if (opts.prompt !== undefined && opts.prompt.trim() === "")
    throw badInput("-p is empty", 'e.g. -p "What do you remember about Ada?"');
  const timeoutMs = timeoutMsFromOptions(opts);
  const bundle = await openBundle(opts.bundle);

  const connection = await connectToServer(target, { timeoutMs, logDir: join(workdir, "logs") });
  const terminal = new Terminal();
  let backend: Awaited<ReturnType<typeof loadBundleModel>> | undefined;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      terminal.close();
      await connection.close();
      await backend?.close();
    })());
  const stopOnSignal = onShutdown(close);
  try {
    const liveTools = await listAllTools(connection, { timeoutMs });
    const drift = checkDrift(bundle.tools, liveTools);
    if (drift) {
      const lines = formatDrift(drift, printable);
      if (!opts.allowDrift) {
        output.info(
          [
            `the tools of ${printable(describeTarget(target))} differ from the ones ${bundle.name} was trained on (${bundle.toolsetHash})`,
            ...lines,
          ].join("\n"),
        );
        output.info("hint: retrain on the server's current tools, or pass --allow-drift to start anyway");
        output.result({ started: false, drift });
        return ExitCode.gateFailed;
      }
      output.info(["warning: starting despite toolset drift (--allow-drift)", ...lines].join("\n"));
    }
    backend = await loadBundleModel(bundle, { constrained: opts.constrained });
    const log: CallLog[] = [];
    const events = callEvents(output, opts.verbose, log);
    const inner = new McpExecutor(connection, liveTools, {
      policy: "all",
      timeoutMs,
      source: "server",
      fallback: new StubResponder(liveTools, []),
    });
    const executor = new ConfirmingExecutor(inner, liveTools, opts.yes ? "always" : terminal.confirm, events);
    // A chat on the terminal shows the answer as the model writes it.
    const streaming = opts.prompt === undefined && !output.json;
    const model = streaming
      ? new PrintingBackend(
          backend,
          callFormatForTemplate(bundle.chatTemplate, `${bundle.dir} (prompt_template.json)`),
          (text) => process.stdout.write(printable(text)),
        )
      : backend;
    const session = new AgentSession(bundle, model, executor, liveTools, maxTurns);

    const reply = (run: RunRecord) => ({
      answer: run.finalAnswer ?? null,
      outcome: run.outcome,
      turns: run.turns.length,
      calls: [...log],
      ...(run.error ? { error: run.error } : {}),
    });
    if (opts.prompt !== undefined) {
      const run = await session.ask(opts.prompt);
      output.result(reply(run));
      report(run, output, maxTurns);
      return run.outcome !== "answered" ? ExitCode.gateFailed : undefined;
    }
    output.info(
      `${bundle.name} on ${printable(describeTarget(target))}: one message per line; Ctrl-D or /exit ends the chat`,
    );
    for await (const line of terminal.lines("you> ")) {
      log.length = 0;
      const run = await session.ask(line);
      // A chat under --json is JSON Lines: one reply object per message, as it happens.
      if (output.json) process.stdout.write(`${JSON.stringify(reply(run))}\n`);
      report(run, output, maxTurns, streaming);
    }
  } finally {
    stopOnSignal();
    await close();
  }
}

interface CallLog {
  name: string;
  arguments: Record<string, unknown>;
  result?: { content: string; isError: boolean; source: ToolResult["source"] };
}

function callEvents(output: Output, verbose: boolean, log: CallLog[]): CallEvents {
  return {
    onCall(name, args) {
      log.push({ name, arguments: args });
      if (verbose) output.info(`→ ${printable(name)} ${printable(JSON.stringify(args))}`);
    },
    onResult(name, result) {
      const entry = log.at(-1);
      if (entry?.name === name)
        entry.result = { content: result.content, isError: result.isError, source: result.source };
      if (!verbose) return;
      const text =
        result.content.length > MAX_SHOWN_RESULT ? `${result.content.slice(0, MAX_SHOWN_RESULT)}…` : result.content;
      output.info(
        `← ${result.isError ? "error" : "ok"}${result.source === "rejected" ? " (not run)" : ""}: ${printable(text)}`,
      );
    },
  };
}

/** `streamed`: the answer is on the screen already, written as the model wrote it. */
function report(run: RunRecord, output: Output, maxTurns: number, streamed = false): void {
  switch (run.outcome) {
    case "answered":
      if (!streamed) output.say(printable(run.finalAnswer ?? ""));
      return;
    case "turn_limit":
      output.info(`no answer after ${maxTurns} model turns; raise --max-turns to let it call more tools`);
      return;
    case "unparseable": {
      const bad = run.turns.at(-1)?.calls.find((c) => c.check === "unparseable");
      output.info(
        `the model wrote a tool call that does not parse${bad?.problem ? ` (${printable(bad.problem)})` : ""}: ${printable(bad?.text ?? run.turns.at(-1)?.raw ?? "")}`,
      );
      return;
    }
    case "model_error":
      output.info(`the model failed: ${printable(run.error ?? "unknown error")}`);
  }
}
