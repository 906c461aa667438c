import { Command, CommanderError } from "commander";

import { ExitCode, ForgeError, PATH_ERRORS } from "../core/errors.js";
import { redactSecrets } from "../core/redact.js";
import { onShutdown } from "../core/shutdown.js";
import { recordInvocation } from "../core/state.js";
import { VERSION } from "../core/version.js";
import { COMMANDS } from "../stages/commands.js";
import { stageExitCode } from "../stages/stage.js";
import { checkSharedOptionBounds } from "./bounds.js";
import { recordCliEntry } from "./entry.js";

interface CommandEntry {
  name: string;
  load: () => Promise<Command>;
}

/**
 * Every command of the CLI, in the order `--help` lists them: `run`, then the commands it calls
 * and the rest (src/stages/commands.ts).
 */
const ALL_COMMANDS: CommandEntry[] = [
  { name: "run", load: async () => (await import(/* webpackMode: "eager" */ "../stages/run/command.js")).runCommand() },
  ...Object.entries(COMMANDS).map(([name, load]) => ({ name, load })),
];

/**
 * The program for these arguments (`["node", "mcp-forge", …]`): only the command they name is
 * loaded; none for `--version`; all of them for the help, no command or an unknown one.
 */
export async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command("mcp-forge")
    .description("Turn an MCP server into a small local model that calls its tools reliably.")
    .version(VERSION)
    .enablePositionalOptions()
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .hook("preAction", (_program, command) => checkSharedOptionBounds(command.opts()));
  for (const entry of commandsFor(argv.slice(2))) program.addCommand((await entry.load()).exitOverride());
  return program;
}

function commandsFor(args: readonly string[]): CommandEntry[] {
  // With positional options the program's own options (-V, -h) come before the command's name.
  const named = args.find((a) => !a.startsWith("-"));
  const entry = ALL_COMMANDS.find((c) => c.name === named);
  if (entry) return [entry];
  if (
    named === undefined &&
    args.some((a) => a === "-V" || a === "--version") &&
    !args.some((a) => a === "-h" || a === "--help")
  )
    return [];
  return ALL_COMMANDS;
}

/** Runs the CLI and returns the contract's exit code (the entry script sets the process's from it); never throws. */
export async function main(argv: string[]): Promise<number> {
  recordCliEntry(argv[1]);
  recordInvocation(argv.slice(2));
  let program: Command | undefined;
  exitQuietlyWhenStdoutCloses(() => (program ? stageExitCode(program) : ExitCode.ok));
  const stopOnSignal = onShutdown(() => undefined);
  try {
    program = await buildProgram(argv);
    await program.parseAsync(argv);
    // The exit code the command's stage function returned; a thrown error's is reportError's.
    return stageExitCode(program);
  } catch (error) {
    return reportError(error);
  } finally {
    stopOnSignal();
  }
}

// `mcp-forge … | head` closes the pipe early; like other CLIs, stop without a stack trace.
function exitQuietlyWhenStdoutCloses(exitCode: () => number): void {
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(exitCode());
  });
}

function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.exitCode === 0) {
      return ExitCode.ok;
    }
    return ExitCode.badInput;
  }
  if (error instanceof ForgeError) {
    process.stderr.write(redactSecrets(error.report));
    return error.exitCode;
  }
  const fsError = error as NodeJS.ErrnoException;
  if (typeof fsError?.path === "string" && fsError.code !== undefined && PATH_ERRORS[fsError.code]) {
    process.stderr.write(
      redactSecrets(
        `error: cannot use ${fsError.path}: ${PATH_ERRORS[fsError.code]} (${fsError.code})\nhint: pass another path\n`,
      ),
    );
    return ExitCode.badInput;
  }
  process.stderr.write(redactSecrets(`error: ${(error as Error)?.stack ?? String(error)}\n`));
  return ExitCode.environment;
}
