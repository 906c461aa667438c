import { spawn } from "node:child_process";
import { join } from "node:path";

import { actionRoot } from "./context.js";

export interface CliResult {
  code: number;
  stdout: string;
}

/**
 * Runs the bundled CLI (dist/cli/index.js) as its own process: the stages' arguments are the
 * action's only coupling to them. Stderr streams to the log; stdout is streamed too unless captured
 * (for `--json`).
 */
export function runCli(
  args: readonly string[],
  options: { cwd: string; capture?: boolean; env?: NodeJS.ProcessEnv },
): Promise<CliResult> {
  const cli = join(actionRoot(), "dist", "cli", "index.js");
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", options.capture ? "pipe" : "inherit", "inherit"],
    });
    let stdout = "";
    // A cancelled job signals the step's process: the CLI gets the signal too, so the trainer checkpoints and servers are reaped.
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on("SIGINT", forward).on("SIGTERM", forward);
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      process.off("SIGINT", forward).off("SIGTERM", forward);
      resolvePromise({ code: code ?? (signal === "SIGINT" ? 130 : 1), stdout });
    });
  });
}

/** The CLI's arguments that name the MCP server, from the action's source input. */
export function serverArgs(
  source: { kind: "server"; command: string } | { kind: "url"; url: string; headers: string[] },
): string[] {
  return source.kind === "server"
    ? ["--server", source.command]
    : ["--url", source.url, ...source.headers.flatMap((h) => ["--header", h])];
}
