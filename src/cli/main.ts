import { Command, CommanderError } from "commander";
import { ExitCode, ForgeError } from "../core/errors.js";
import { onShutdown } from "../core/shutdown.js";
import { VERSION } from "../core/version.js";
import { recordCliEntry } from "./entry.js";
import { doctorCommand } from "../stages/doctor/command.js";
import { generateCommand } from "../stages/generate/command.js";
import { qaCommand } from "../stages/qa/command.js";
import { inspectCommand } from "../stages/inspect/command.js";
import { packCommand } from "../stages/pack/command.js";
import { statusCommand } from "../stages/status/command.js";
import { stubCommand } from "../stages/stub/command.js";
import { validateCommand } from "../stages/validate/command.js";
import { benchmarkCommand } from "../stages/benchmark/command.js";
import { toolsCommand } from "../stages/tools-import/command.js";
import { verifyBundleCommand } from "../stages/verify-bundle/command.js";
import { trainCommand } from "../stages/train/command.js";
import { exportCommand } from "../stages/export/command.js";
import { agentCommand } from "../stages/agent/command.js";
import { serveCommand } from "../stages/serve/command.js";
import { runCommand } from "../stages/run/command.js";

/** Every command of the CLI, in the order `--help` lists them. */
const COMMANDS: Array<() => Command> = [
  runCommand,
  doctorCommand,
  inspectCommand,
  toolsCommand,
  generateCommand,
  qaCommand,
  trainCommand,
  exportCommand,
  statusCommand,
  stubCommand,
  validateCommand,
  benchmarkCommand,
  packCommand,
  verifyBundleCommand,
  agentCommand,
  serveCommand,
];

export function buildProgram(): Command {
  const program = new Command("mcp-forge")
    .description("Turn an MCP server into a small local model that calls its tools reliably.")
    .version(VERSION)
    .enablePositionalOptions()
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)");
  for (const make of COMMANDS) program.addCommand(make().exitOverride());
  return program;
}

/** Runs the CLI and returns the contract's exit code; never throws. */
export async function main(argv: string[]): Promise<number> {
  recordCliEntry(argv[1]);
  const program = buildProgram();
  const stopOnSignal = onShutdown(() => undefined);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : ExitCode.ok;
  } catch (error) {
    return reportError(error);
  } finally {
    stopOnSignal();
  }
}

function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.exitCode === 0) {
      return ExitCode.ok;
    }
    return ExitCode.badInput;
  }
  if (error instanceof ForgeError) {
    process.stderr.write(`error: ${error.message}\n`);
    if (error.hint) process.stderr.write(`hint: ${error.hint}\n`);
    return error.exitCode;
  }
  process.stderr.write(`error: ${(error as Error)?.stack ?? String(error)}\n`);
  return ExitCode.environment;
}
