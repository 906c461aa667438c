import { Command } from "commander";

import { loadBundleModel, openBundle } from "../../agent/bundle.js";
import { parseCount, parseSeconds } from "../../cli/bounds.js";
import { examples, globalOptions, withCommonOptions } from "../../cli/options.js";
import { badInput } from "../../core/errors.js";
import { onShutdown } from "../../core/shutdown.js";
import { DEFAULT_MAX_QUEUE, DEFAULT_REQUEST_TIMEOUT_MS, startServer } from "../../serve/server.js";

interface ServeCliOptions {
  workdir: string;
  json: boolean;
  bundle?: string;
  port: string;
  host: string;
  quiet: boolean;
  constrained: boolean;
  maxQueue: string;
  requestTimeout: string;
}

export function serveCommand(): Command {
  const command = new Command("serve")
    .description(
      "an OpenAI-compatible chat completions server (tools, tool_calls, streaming) for the bundle's model; loopback by default",
    )
    .option("--bundle <dir>", "the agent bundle `mcp-forge pack` wrote")
    .option("--port <n>", "TCP port (0 picks a free one)", "8080")
    .option(
      "--host <address>",
      "address to listen on; anything but loopback exposes the model to the network",
      "127.0.0.1",
    )
    .option(
      "--max-queue <n>",
      "requests waiting or running at most; more are answered 429 with Retry-After",
      String(DEFAULT_MAX_QUEUE),
    )
    .option(
      "--request-timeout <seconds>",
      "limit on one generation; a request past it is answered 504",
      String(DEFAULT_REQUEST_TIMEOUT_MS / 1000),
    )
    .option(
      "--constrained",
      "decode with a grammar built from each request's tools: every tool call parses and fits its schema",
      false,
    )
    .option("-q, --quiet", "no line per request on stderr", false)
    .addHelpText(
      "after",
      examples(
        "mcp-forge serve --bundle bundle",
        "mcp-forge serve --bundle bundle --port 0 --json",
        'curl http://127.0.0.1:8080/v1/chat/completions -H \'content-type: application/json\' \\\n      -d \'{"model": "<name>", "messages": [{"role": "user", "content": "hi"}]}\'',
        "mcp-forge benchmark --model openai:<name> --base-url http://127.0.0.1:8080/v1",
      ),
    );
  return withCommonOptions(command).action(async (opts: ServeCliOptions) => {
    const { output } = globalOptions(opts);
    if (!opts.bundle)
      throw badInput(
        "serve needs --bundle <dir>: the folder `mcp-forge pack` wrote",
        "e.g. mcp-forge serve --bundle bundle",
      );
    const port = Number(opts.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw badInput(`--port ${opts.port}: expected a port number from 0 to 65535`, "e.g. --port 8080");
    if (opts.host.trim() === "") throw badInput("--host is empty", "e.g. --host 127.0.0.1");
    const maxQueue = parseCount(opts.maxQueue, "--max-queue", { min: 1, max: 10_000 });
    const requestTimeoutMs = parseSeconds(opts.requestTimeout, "--request-timeout") * 1000;
    const bundle = await openBundle(opts.bundle);
    const backend = await loadBundleModel(bundle, { constrained: opts.constrained });
    let running;
    try {
      running = await startServer({
        bundle,
        backend,
        host: opts.host,
        port,
        maxQueue,
        requestTimeoutMs,
        ...(opts.quiet ? {} : { log: output.info }),
      });
    } catch (error) {
      await backend.close();
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EADDRINUSE")
        throw badInput(`--port ${port}: the port is in use`, "pick another with --port, or --port 0 for a free one");
      if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND")
        throw badInput(`--host ${opts.host}: not an address of this machine`, "e.g. --host 127.0.0.1");
      throw error;
    }
    const server = running;
    const stopped = new Promise<void>((resolve) => {
      onShutdown(async () => {
        await server.close();
        await backend.close();
        resolve();
      });
    });
    output.result({ url: server.url, model: bundle.name, bundle: bundle.dir, toolsetHash: bundle.toolsetHash });
    output.say(`serving ${bundle.name} at ${server.url} (POST /v1/chat/completions, GET /v1/models); Ctrl-C stops`);
    await stopped;
  });
}
